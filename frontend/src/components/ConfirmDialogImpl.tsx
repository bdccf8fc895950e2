import { useState } from 'react';
import { Button, Dialog, DialogTrigger, Heading, Modal, ModalOverlay } from 'react-aria-components';
import { ErrorNotice } from './ErrorNotice';
import type { ConfirmDialogProps } from './ConfirmDialog';
import type { Problem } from '../lib/errors';

/** See ConfirmDialog. */
export default function ConfirmDialogImpl({ label, title, children, confirmLabel, onConfirm, danger }: ConfirmDialogProps) {
  const [busy, setBusy] = useState(false);
  const [problem, setProblem] = useState<Problem | null>(null);
  return (
    <DialogTrigger onOpenChange={(open) => open && setProblem(null)}>
      <Button className={danger ? 'button button-danger' : 'button'}>{label}</Button>
      <ModalOverlay className="modal-overlay" isDismissable={!busy}>
        <Modal className="modal">
          <Dialog className="dialog" role="alertdialog">
            {({ close }) => (
              <>
                <Heading slot="title">{title}</Heading>
                <div className="dialog-body">{children}</div>
                {problem && <ErrorNotice problem={problem} title="Portside refused" />}
                <div className="dialog-actions">
                  <Button className="button button-quiet" onPress={close} isDisabled={busy}>
                    Cancel
                  </Button>
                  <Button
                    className={danger ? 'button button-danger' : 'button button-primary'}
                    isDisabled={busy}
                    onPress={async () => {
                      setBusy(true);
                      const p = await onConfirm();
                      setBusy(false);
                      if (p) setProblem(p);
                      else close();
                    }}
                  >
                    {busy ? 'Working…' : confirmLabel}
                  </Button>
                </div>
              </>
            )}
          </Dialog>
        </Modal>
      </ModalOverlay>
    </DialogTrigger>
  );
}
