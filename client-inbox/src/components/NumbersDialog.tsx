/**
 * The clinic's texting numbers and their reputation, for admins (GET /api/numbers/health):
 * each number's figures over the rolling window, whether it is flagged and why, what
 * to do about it, and Restore to put a flagged number back in the pool for new
 * patients. Clinic numbers only, no PHI. The hub enforces who may do what.
 */
import { useEffect, useState } from 'preact/hooks';
import { describeError, type Api } from '../api.ts';
import { Modal } from './Modal.tsx';

export interface NumberHealthItem {
  number: string;
  role: 'sender' | 'inbound_only';
  inPool: boolean;
  flagged: { at: string; reason: string } | null;
  window: { from: string; to: string };
  sent: number;
  delivered: number;
  undelivered: number;
  failed: number;
  deliveryRate: number | null;
  filtered30007: number;
  unreachable: { '30003': number; '30005': number; '30006': number };
  optOuts: number;
  optOutsPer1000: number | null;
  patientsAssigned: number;
  hint: string | null;
}

const percent = (rate: number | null) => (rate === null ? '—' : `${(rate * 100).toFixed(1)}%`);
const perThousand = (value: number | null) => (value === null ? '—' : value.toLocaleString(undefined, { maximumFractionDigits: 1 }));
const day = (iso: string) => new Date(iso).toLocaleDateString(undefined, { month: 'short', day: 'numeric' });

function standing(item: NumberHealthItem): string {
  if (item.role === 'inbound_only') return 'Inbound only (never sends)';
  if (item.flagged) return 'Flagged: no new patients';
  return 'In the pool';
}

export function NumbersDialog(props: { open: boolean; onClose(): void; api: Api }) {
  const [items, setItems] = useState<NumberHealthItem[] | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [status, setStatus] = useState('');
  const [busy, setBusy] = useState<string | null>(null);

  async function load() {
    setError(null);
    try {
      setItems((await props.api.get<{ items: NumberHealthItem[] }>('/api/numbers/health')).items);
    } catch (e) {
      setError(describeError(e));
    }
  }

  useEffect(() => {
    if (props.open) void load();
  }, [props.open]);

  async function restore(item: NumberHealthItem) {
    setBusy(item.number);
    setError(null);
    try {
      await props.api.post(`/api/numbers/${encodeURIComponent(item.number)}/restore`);
      setStatus(`${item.number} is back in the pool for new patients`);
      await load();
    } catch (e) {
      setError(describeError(e));
    } finally {
      setBusy(null);
    }
  }

  const span = items?.[0]?.window;
  return (
    <Modal open={props.open} title="Texting numbers" onClose={props.onClose} class="modal-wide numbers-dialog">
      <p class="hint">
        Each patient hears from one number (the one on the card they were sent). A number carriers filter, or that many patients
        opt out of, gets no new patients until you restore it; its own patients keep it.
        {span ? ` Figures from ${day(span.from)} to ${day(span.to)}.` : ''}
      </p>
      {error && (
        <p class="error" role="alert">
          {error}
        </p>
      )}
      {items === null && !error && <p class="hint">Loading…</p>}
      {items && items.length === 0 && <p class="hint">No texting numbers are configured (Twilio’s Messaging Service chooses the sender).</p>}
      {items && items.length > 0 && (
        <table class="chart-table numbers-table">
          <caption>Numbers and their delivery</caption>
          <thead>
            <tr>
              <th scope="col">Number</th>
              <th scope="col">Standing</th>
              <th scope="col">Patients</th>
              <th scope="col">Sent</th>
              <th scope="col">Delivered</th>
              <th scope="col">Delivery rate</th>
              <th scope="col">Filtered (30007)</th>
              <th scope="col">Unreachable</th>
              <th scope="col">Opt-outs per 1,000</th>
              <th scope="col">
                <span class="sr-only">Actions</span>
              </th>
            </tr>
          </thead>
          <tbody>
            {items.map((item) => (
              <tr key={item.number}>
                <th scope="row">{item.number}</th>
                <td>
                  {standing(item)}
                  {item.flagged && <div class="hint">{item.flagged.reason}</div>}
                  {item.hint && <div class="hint">{item.hint}</div>}
                </td>
                <td>{item.role === 'sender' ? item.patientsAssigned : '—'}</td>
                <td>{item.sent}</td>
                <td>{item.delivered}</td>
                <td>{percent(item.deliveryRate)}</td>
                <td>{item.filtered30007}</td>
                <td>{item.unreachable['30003'] + item.unreachable['30005'] + item.unreachable['30006']}</td>
                <td>
                  {perThousand(item.optOutsPer1000)} ({item.optOuts})
                </td>
                <td>
                  {item.flagged && (
                    <button type="button" disabled={busy === item.number} onClick={() => restore(item)} aria-label={`Restore ${item.number} to the pool`}>
                      Restore
                    </button>
                  )}
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
      <p>
        <button type="button" class="ghost" onClick={() => load()}>
          Refresh
        </button>
      </p>
      <div class="sr-only" role="status" aria-live="polite">
        {status}
      </div>
    </Modal>
  );
}
