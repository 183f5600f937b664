/**
 * A patient on their own, in the main pane: opened from "Find a patient", or
 * just added. The patient panel's details and actions (edit, record consent,
 * new conversation), and their conversations to open.
 */
import { useEffect, useState } from 'preact/hooks';
import { describeError, type Api } from '../api.ts';
import type { PatientProfile, Role } from '../types.ts';
import { PatientPanel } from './PatientPanel.tsx';

export function PatientPage(props: {
  api: Api;
  patientId: string;
  role: Role;
  /** Shown above the details, e.g. "Zoë Nakamura was added". */
  notice: string | null;
  onOpen(conversationId: string): void;
  onOpenPatient(patientId: string): void;
  onClose(): void;
}) {
  const { api, patientId } = props;
  const [patient, setPatient] = useState<PatientProfile | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [version, setVersion] = useState(0);

  useEffect(() => {
    let cancelled = false;
    api.get<PatientProfile>(`/api/patients/${encodeURIComponent(patientId)}`).then(
      (p) => {
        if (cancelled) return;
        setPatient(p);
        setError(null);
      },
      (e: unknown) => !cancelled && setError(`This patient cannot be opened: ${describeError(e)}`),
    );
    return () => {
      cancelled = true;
    };
  }, [api, patientId, version]);

  return (
    <PatientPanel
      open
      mode="page"
      onClose={props.onClose}
      api={api}
      patientId={patientId}
      patient={patient && patient.id === patientId ? patient : null}
      error={error}
      onPatient={setPatient}
      conversation={null}
      notice={props.notice}
      version={version}
      onOpen={props.onOpen}
      role={props.role}
      onChanged={() => setVersion((v) => v + 1)}
      onOpenPatient={props.onOpenPatient}
    />
  );
}
