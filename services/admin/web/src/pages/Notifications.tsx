/**
 * Notification channels: where store and service up/down, rollbacks and dead letters are
 * announced. Each channel with its last delivery; add one, send it a test, see its
 * deliveries, or delete it after a confirmation.
 */
import { useState } from 'react';
import { call, client, describeError, pageOf } from '../api';
import { Breakable } from '../components/Breakable';
import { ConfirmDialog } from '../components/Dialog';
import { NotificationDeliveries } from '../components/NotificationDeliveries';
import { NotificationForm } from '../components/NotificationForm';
import { PageHeader } from '../components/PageHeader';
import { ErrorMessage, Loading, Notice } from '../components/States';
import { StatusBadge } from '../components/StatusBadge';
import { Table } from '../components/Table';
import { When } from '../components/When';
import { formatNumber, shortId } from '../format';
import { useResource } from '../hooks';
import type { NotificationChannel, Page } from '../types';

const REFRESH_MS = 10_000;

/** How a channel is named in messages and captions: its URL or its recipients. */
const channelLabel = (c: NotificationChannel): string => (c.kind === 'webhook' ? (c.url ?? 'webhook') : (c.to ?? []).join(', ') || 'e-mail');

export function Notifications() {
  const channels = useResource(async (signal) => pageOf(await call<Page<NotificationChannel>>(client.GET('/api/v1/admin/notifications', { signal }))).items, [], REFRESH_MS);
  const [open, setOpen] = useState<ReadonlySet<string>>(new Set());
  /** Bumped per channel when a test is sent, so its open deliveries load again at once. */
  const [versions, setVersions] = useState<Record<string, number>>({});
  const [busy, setBusy] = useState<string | null>(null);
  const [deleting, setDeleting] = useState<NotificationChannel | null>(null);
  const [deleteError, setDeleteError] = useState<string | null>(null);
  const [outcome, setOutcome] = useState<{ tone: 'success' | 'error'; text: string } | null>(null);

  const toggle = (id: string) =>
    setOpen((current) => {
      const next = new Set(current);
      if (!next.delete(id)) next.add(id);
      return next;
    });

  const sendTest = async (channel: NotificationChannel) => {
    setBusy(channel.id);
    try {
      await call(client.POST('/api/v1/admin/notifications/{id}/test', { params: { path: { id: channel.id } } }));
      setOutcome({ tone: 'success', text: `Test sent to ${channelLabel(channel)}; its delivery shows under Deliveries.` });
      setVersions((v) => ({ ...v, [channel.id]: (v[channel.id] ?? 0) + 1 }));
      setOpen((current) => new Set(current).add(channel.id));
      channels.reload();
    } catch (e) {
      setOutcome({ tone: 'error', text: `Could not send a test to ${channelLabel(channel)}: ${describeError(e)}` });
    } finally {
      setBusy(null);
    }
  };

  const remove = async (channel: NotificationChannel) => {
    setBusy(channel.id);
    setDeleteError(null);
    try {
      await call(client.DELETE('/api/v1/admin/notifications/{id}', { params: { path: { id: channel.id } } }));
      channels.setData((items) => items?.filter((c) => c.id !== channel.id));
      setOutcome({ tone: 'success', text: `Channel ${channelLabel(channel)} deleted.` });
      setDeleting(null);
      channels.reload();
    } catch (e) {
      setDeleteError(describeError(e));
    } finally {
      setBusy(null);
    }
  };

  const items = channels.data ?? [];
  return (
    <>
      <PageHeader title="Notifications" updatedAt={channels.updatedAt} loading={channels.loading} onRefresh={channels.reload} />
      <p className="lead">Channels are told when a store or a service instance goes down or comes back, when a rollout is rolled back and when a message is dead-lettered.</p>
      {outcome && <Notice tone={outcome.tone}>{outcome.text}</Notice>}
      {channels.error && <ErrorMessage error={channels.error} onRetry={channels.reload} />}
      {!channels.data && channels.loading && <Loading what="Loading the channels" />}
      {channels.data && (
        <Table
          caption={`Notification channels (${formatNumber(items.length)})`}
          rows={items}
          rowKey={(c) => c.id}
          rowId={(c) => c.id}
          empty="No channel yet: add one below to be told when something goes wrong."
          detail={(c) => (open.has(c.id) ? <NotificationDeliveries channelId={c.id} label={channelLabel(c)} version={versions[c.id] ?? 0} /> : null)}
          columns={[
            { header: 'Kind', cell: (c) => (c.kind === 'webhook' ? 'Webhook' : 'E-mail') },
            { header: 'Destination', cell: (c) => <Destination channel={c} /> },
            { header: 'Events', cell: (c) => <ul className="inline-list">{c.events.map((e) => <li key={e}><code>{e}</code></li>)}</ul> },
            {
              header: 'Created',
              cell: (c) => (
                <div className="status-cell">
                  <When at={c.createdAt} />
                  {c.createdBy && <span>by <code title={c.createdBy}>{shortId(c.createdBy)}</code></span>}
                </div>
              ),
            },
            { header: 'Last delivery', cell: (c) => <LastDelivery channel={c} /> },
            {
              header: 'Actions',
              cell: (c) => (
                <div className="row-actions">
                  <button type="button" className="button button-small" disabled={busy === c.id} onClick={() => void sendTest(c)}>
                    Send test
                  </button>
                  <button type="button" className="button button-small" aria-expanded={open.has(c.id)} onClick={() => toggle(c.id)}>
                    {open.has(c.id) ? 'Hide deliveries' : 'Deliveries'}
                  </button>
                  <button type="button" className="button button-small button-danger" disabled={busy === c.id} onClick={() => { setDeleteError(null); setDeleting(c); }}>
                    Delete…
                  </button>
                </div>
              ),
            },
          ]}
        />
      )}
      <NotificationForm
        onCreated={(created) => {
          // Added, but told why its deliveries will fail (e-mail while SMTP is not configured): say so plainly.
          setOutcome(
            created.warning
              ? { tone: 'error', text: `Channel ${channelLabel(created)} added, but: ${created.warning}` }
              : { tone: 'success', text: `Channel ${channelLabel(created)} added.` },
          );
          channels.setData((list) => [...(list ?? []).filter((c) => c.id !== created.id), created]);
          channels.reload();
        }}
      />
      {deleting && (
        <ConfirmDialog
          title="Delete this channel?"
          confirmLabel="Delete"
          danger
          busy={busy === deleting.id}
          error={deleteError}
          onCancel={() => setDeleting(null)}
          onConfirm={() => void remove(deleting)}
        >
          <p>
            <Breakable text={channelLabel(deleting)} /> will no longer be told about {deleting.events.join(', ')}.
          </p>
        </ConfirmDialog>
      )}
    </>
  );
}

function Destination({ channel }: { channel: NotificationChannel }) {
  if (channel.kind === 'email') return <span>{(channel.to ?? []).join(', ') || '—'}</span>;
  return (
    <div className="status-cell">
      <code><Breakable text={channel.url ?? '—'} /></code>
      <span>{channel.secretSet ? 'signed with a secret' : 'no secret set'}</span>
    </div>
  );
}

function LastDelivery({ channel }: { channel: NotificationChannel }) {
  const last = channel.lastDelivery;
  if (!last) return <span className="muted">Never</span>;
  return (
    <div className="status-cell">
      <StatusBadge status={last.status} />
      <When at={last.at} />
      {last.error && <span className="error-text">{last.error}</span>}
    </div>
  );
}
