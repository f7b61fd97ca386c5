/**
 * Steering a running rollout: the buttons (promote, promote to 100%, pause or resume,
 * abort) and the confirmation each asks for. The confirmation is separate from the
 * buttons so it outlives the rollout it was opened for: a refusal (409 when the rollout
 * ended meanwhile) is still shown in it.
 */
import { useState } from 'react';
import { call, client, describeError } from '../api';
import { ROLLOUT_ACTIONS, type RolloutActionKey } from '../rollout';
import type { RolloutState, Store } from '../types';
import { ConfirmDialog } from './Dialog';

/** `POST /stores/{id}/rollout/{action}`: each route is its own typed path. */
function send(id: string, key: RolloutActionKey): Promise<Store> {
  const params = { path: { id } };
  switch (key) {
    case 'promote':
      return call<Store>(client.POST('/api/v1/stores/{id}/rollout/promote', { params, body: { full: false } }));
    case 'promoteFull':
      return call<Store>(client.POST('/api/v1/stores/{id}/rollout/promote', { params, body: { full: true } }));
    case 'pause':
      return call<Store>(client.POST('/api/v1/stores/{id}/rollout/pause', { params }));
    case 'resume':
      return call<Store>(client.POST('/api/v1/stores/{id}/rollout/resume', { params }));
    case 'abort':
      return call<Store>(client.POST('/api/v1/stores/{id}/rollout/abort', { params }));
  }
}

export function RolloutButtons({ rollout, onAsk }: { rollout: RolloutState; onAsk: (key: RolloutActionKey) => void }) {
  // Keyed by place, not action: Pause… becomes Resume… in the same button, which keeps focus.
  // Straight to 100% only when it skips a step: from the last but one, a promote does the same.
  const skips = rollout.step < rollout.steps - 1;
  const slots: [string, RolloutActionKey][] = [
    ['promote', 'promote'],
    ...(skips ? [['full', 'promoteFull'] as [string, RolloutActionKey]] : []),
    ['hold', rollout.paused ? 'resume' : 'pause'],
    ['abort', 'abort'],
  ];
  return (
    <div className="rollout-actions" role="group" aria-label="Steer the rollout">
      {slots.map(([slot, key]) => {
        const text = ROLLOUT_ACTIONS[key];
        return (
          <button key={slot} type="button" className={`button${'danger' in text ? ' button-danger' : ''}`} onClick={() => onAsk(key)}>
            {text.button}
          </button>
        );
      })}
    </div>
  );
}

interface RolloutConfirmProps {
  store: Store;
  action: RolloutActionKey;
  /** The rollout now; undefined once it ended. */
  rollout: RolloutState | undefined;
  onCancel: () => void;
  /** After the action, with the store as the API answered it. */
  onDone: (store: Store, notice: string) => void;
  /** After a refusal: the page refreshes, the dialog stays with the problem's detail. */
  onRefused: () => void;
}

export function RolloutConfirm({ store, action, rollout, onCancel, onDone, onRefused }: RolloutConfirmProps) {
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | null>(null);
  const text = ROLLOUT_ACTIONS[action];
  const confirm = async () => {
    setBusy(true);
    setError(null);
    try {
      const updated = await send(store.id, action);
      onDone(updated, text.done(store.name));
    } catch (e) {
      setError(describeError(e));
      setBusy(false);
      onRefused();
    }
  };
  return (
    <ConfirmDialog title={text.title(store.name)} confirmLabel={text.confirm} danger={'danger' in text} busy={busy} error={error} onConfirm={confirm} onCancel={onCancel}>
      <p>{text.explains}</p>
      <p>
        {rollout
          ? `Now at step ${rollout.step} of ${rollout.steps}: ${rollout.weight}% of traffic on revision ${store.revision}${rollout.paused ? ', paused' : ''}.`
          : `No rollout is running now: the store is ${store.status}.`}
      </p>
    </ConfirmDialog>
  );
}
