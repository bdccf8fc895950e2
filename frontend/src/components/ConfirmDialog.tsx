import { lazy, Suspense, type ReactNode } from 'react';
import type { Problem } from '../lib/errors';

export interface ConfirmDialogProps {
  /** The button that opens the dialog. */
  label: string;
  /** The dialog's title, e.g. "Sync payments-api in production?". */
  title: string;
  /** What will happen, in words the person can check before confirming. */
  children: ReactNode;
  /** The confirming button's text, e.g. "Sync now". */
  confirmLabel: string;
  /** Runs the action; a Problem keeps the dialog open and shows the server's refusal. */
  onConfirm: () => Promise<Problem | null>;
  danger?: boolean;
}

// The dialog's widgets (modal, focus trap, overlay) load with the first page that offers an
// action, not with every page: viewers, who are offered none, never load them.
const Impl = lazy(() => import('./ConfirmDialogImpl'));

/** An action behind a confirmation that says what it will do; a refusal is shown in place. */
export function ConfirmDialog(props: ConfirmDialogProps) {
  return (
    <Suspense
      fallback={
        <button type="button" className={props.danger ? 'button button-danger' : 'button'} disabled>
          {props.label}
        </button>
      }
    >
      <Impl {...props} />
    </Suspense>
  );
}
