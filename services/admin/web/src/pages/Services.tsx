/** Every service instance from its heartbeats: up, down (silent) or stopped (shut down gracefully), version, uptime, readiness and health over the last hour. */
import { useEffect } from 'react';
import { call, client, pageOf } from '../api';
import { HealthTimeline } from '../components/HealthTimeline';
import { PageHeader } from '../components/PageHeader';
import { ErrorMessage, Loading } from '../components/States';
import { StatusBadge } from '../components/StatusBadge';
import { Table } from '../components/Table';
import { formatAgo, formatDuration, formatNumber, formatTime, shortId } from '../format';
import { useResource } from '../hooks';
import { live } from '../live';
import type { Page, ServiceInstance } from '../types';

const key = (i: ServiceInstance) => `${i.service}/${i.instanceId}`;
const byName = (a: ServiceInstance, b: ServiceInstance) => a.service.localeCompare(b.service) || a.instanceId.localeCompare(b.instanceId);

export function Services() {
  const services = useResource(async (signal) => pageOf(await call<Page<ServiceInstance>>(client.GET('/api/v1/admin/services', { signal }))).items, [], 5000);
  const { setData } = services;
  // An instance going up, down or stopped arrives on the live stream before the next refresh.
  useEffect(
    () =>
      live.onService((changed) =>
        setData((items) => [...(items ?? []).filter((i) => key(i) !== key(changed)), changed]),
      ),
    [setData],
  );
  const items = [...(services.data ?? [])].sort(byName);
  const now = services.updatedAt ?? Date.now();
  const count = (status: ServiceInstance['status']) => items.filter((i) => i.status === status).length;

  return (
    <>
      <PageHeader title="Services" updatedAt={services.updatedAt} loading={services.loading} onRefresh={services.reload} />
      {services.error && <ErrorMessage error={services.error} onRetry={services.reload} />}
      {!services.data && services.loading && <Loading what="Loading services" />}
      {services.data && (
        <Table
          caption={`Service instances: ${formatNumber(count('up'))} up, ${formatNumber(count('down'))} down, ${formatNumber(count('stopped'))} stopped`}
          rows={items}
          rowKey={key}
          rowId={key}
          empty="No service has sent a heartbeat yet."
          columns={[
            { header: 'Service', cell: (i) => <strong>{i.service}</strong> },
            { header: 'Instance', cell: (i) => <code title={i.instanceId}>{shortId(i.instanceId)}</code> },
            { header: 'Status', cell: (i) => <StatusBadge status={i.status} /> },
            { header: 'Version', cell: (i) => i.version },
            { header: 'Uptime', cell: (i) => (i.status === 'up' ? formatDuration(i.uptimeSeconds) : '—'), className: 'num' },
            { header: 'Ready', cell: (i) => <StatusBadge status={i.ready ? 'ready' : 'pending'} /> },
            { header: 'Last heartbeat', cell: (i) => <time dateTime={i.lastHeartbeatAt} title={formatTime(i.lastHeartbeatAt)}>{formatAgo(i.lastHeartbeatAt, now)}</time> },
            { header: 'Health, last hour', cell: (i) => <HealthTimeline changes={i.transitions} status={i.status} now={now} /> },
          ]}
        />
      )}
    </>
  );
}
