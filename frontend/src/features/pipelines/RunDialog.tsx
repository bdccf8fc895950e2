import { Button, Dialog, DialogTrigger, Heading, Modal, ModalOverlay } from 'react-aria-components';
import { useMutation, type CombinedError } from 'urql';
import { useNavigate } from 'react-router';
import { graphql } from '../../gql';
import { problemOf } from '../../lib/errors';
import { runPath } from './fields';
import type { Param } from './params';
import { RunForm } from './RunForm';

const Trigger = graphql(`
  mutation TriggerPipeline($input: TriggerPipelineInput!) {
    triggerPipeline(input: $input) { run { ...PipelineRunFields } }
  }
`);

export interface RunDialogProps {
  component: string;
  pipeline: string;
  defaultRef: string;
  params: Param[];
  onStarted?: (runId: string) => void;
}

/** The Run button and its dialog (loaded only for those who may run: the widgets stay out of the page's bundle). */
export default function RunDialog({ component, pipeline, defaultRef, params, onStarted }: RunDialogProps) {
  const [, trigger] = useMutation(Trigger);
  const navigate = useNavigate();
  return (
    <DialogTrigger>
      <Button className="button button-primary" aria-label={`Run ${pipeline}`}>
        Run
      </Button>
      <ModalOverlay className="modal-overlay" isDismissable>
        <Modal className="modal">
          <Dialog className="dialog">
            {({ close }) => (
              <>
                <Heading slot="title">Run {pipeline}</Heading>
                {/* Mounted per opening: each opening has its own idempotency key. */}
                <RunForm
                  component={component}
                  pipeline={pipeline}
                  defaultRef={defaultRef}
                  params={params}
                  onCancel={close}
                  onSubmit={async (input) => {
                    const res = await trigger({ input });
                    if (res.error) return problemOf(res.error as CombinedError);
                    const id = res.data?.triggerPipeline.run.id;
                    close();
                    if (id) {
                      onStarted?.(id);
                      navigate(runPath(id));
                    }
                    return null;
                  }}
                />
              </>
            )}
          </Dialog>
        </Modal>
      </ModalOverlay>
    </DialogTrigger>
  );
}
