/** A channel's deliveries, newest as the server orders them: status, attempts and the last error, followed while open. */
import { call, client, pageOf } from '../api';
import { formatNumber } from '../format';
import { useResource } from '../hooks';
import type { NotificationDelivery, Page } from '../types';
import { ErrorMessage, Loading } from './States';
import { StatusBadge } from './StatusBadge';
import { Table } from './Table';
import { When } from './When';

const REFRESH_MS = 3000;

/** `version` changes when the page knows of a new delivery (a test was sent): load again at once. */
export function NotificationDeliveries({ channelId, label, version }: { channelId: string; label: string; version: number }) {
  const deliveries = useResource(
    async (signal) => pageOf(await call<Page<NotificationDelivery>>(client.GET('/api/v1/admin/notifications/{id}/deliveries', { params: { path: { id: channelId } }, signal }))).items,
    [channelId, version],
    REFRESH_MS,
  );
  if (deliveries.error) return <ErrorMessage error={deliveries.error} onRetry={deliveries.reload} />;
  if (!deliveries.data) return <Loading what="Loading the deliveries" />;
  return (
    <Table
      caption={`Deliveries to ${label} (${formatNumber(deliveries.data.length)})`}
      rows={deliveries.data}
      rowKey={(d) => d.id}
      rowId={(d) => d.id}
      empty="Nothing was sent to this channel yet. Send a test to try it."
      columns={[
        { header: 'Created', cell: (d) => <When at={d.createdAt} /> },
        { header: 'Event', cell: (d) => <code>{d.event}</code> },
        { header: 'Status', cell: (d) => <StatusBadge status={d.status} /> },
        { header: 'Attempts', cell: (d) => formatNumber(d.attempts), className: 'num' },
        { header: 'Sent', cell: (d) => <When at={d.sentAt} /> },
        { header: 'Last error', cell: (d) => (d.lastError ? <span className="error-text">{d.lastError}</span> : '—') },
      ]}
    />
  );
}
