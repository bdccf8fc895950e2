import { useState } from 'react';
import { useSearchParams } from 'react-router';
import { useMutation, useQuery } from 'urql';
import { graphql } from '../../gql';
import { useViewer } from '../../app/viewer';
import { ErrorNotice } from '../../components/ErrorNotice';
import { Loading } from '../../components/States';

const LinksQuery = graphql(`
  query SlackLinks {
    me { slackLinks { teamId slackUser createdAt } }
  }
`);

const PreviewQuery = graphql(`
  query SlackLinkPreview($token: String!) {
    slackLinkPreview(token: $token) { teamId slackUser handle name email expiresAt }
  }
`);

const Link = graphql(`
  mutation LinkSlackUser($input: LinkSlackUserInput!) { linkSlackUser(input: $input) { teamId slackUser createdAt } }
`);

const Unlink = graphql(`
  mutation UnlinkSlackUser($input: UnlinkSlackUserInput!) { unlinkSlackUser(input: $input) { teamId slackUser } }
`);

/** How Slack people know the user: @handle, else their name, else the ID (Slack did not say). */
function slackName(p: { slackUser: string; handle?: string | null; name?: string | null }) {
  return p.handle ? `@${p.handle}` : (p.name ?? p.slackUser);
}

// Matches auth's bound on a link token: anything longer is not one, and is not sent.
const MAX_TOKEN = 64;

/**
 * Where `/deploy link` in Slack sends a person: confirming links the Slack user the URL was made
 * for to the signed-in person, who then acts in Slack as themselves. Nothing is linked on load:
 * the page first says which Slack user the URL is for (slackLinkPreview), and the person
 * confirms (a link URL someone else sent would make their Slack user act as you); a used or
 * expired URL says so before any confirmation. The page also lists the viewer's links, each with
 * Unlink.
 */
export function SlackLinkPage() {
  const viewer = useViewer();
  const [params] = useSearchParams();
  const token = params.get('token') ?? '';
  const usable = token.length > 0 && token.length <= MAX_TOKEN;
  const [{ data, fetching, error }, refetch] = useQuery({ query: LinksQuery, requestPolicy: 'network-only' });
  const [linking, link] = useMutation(Link);
  const [unlinking, unlink] = useMutation(Unlink);
  const [linked, setLinked] = useState<{ teamId: string; slackUser: string } | null>(null);
  // Whom the URL would link, asked before anything is offered (the token is not used up).
  const [preview] = useQuery({ query: PreviewQuery, variables: { token }, pause: !usable || linked !== null, requestPolicy: 'network-only' });
  const pending = preview.data?.slackLinkPreview;
  const gone = preview.error?.graphQLErrors.some((e) => e.extensions?.code === 'NOT_FOUND') ?? false;

  const confirm = async () => {
    const res = await link({ input: { token } });
    if (res.data?.linkSlackUser) {
      setLinked(res.data.linkSlackUser);
      refetch({ requestPolicy: 'network-only' });
    }
  };
  const remove = async (teamId: string, slackUser: string) => {
    const res = await unlink({ input: { teamId, slackUser } });
    if (res.data) refetch({ requestPolicy: 'network-only' });
  };

  return (
    <>
      <h1>Slack</h1>
      <section aria-labelledby="link-heading">
        <h2 id="link-heading">Link your Slack user</h2>
        {linked ? (
          <p role="status">
            Slack user <code>{linked.slackUser}</code> of workspace <code>{linked.teamId}</code> is linked to you, {viewer.username}:
            in Slack, Portside now acts as you for it.
          </p>
        ) : usable && preview.fetching && !pending ? (
          <Loading label="Looking up the Slack user…" />
        ) : usable && gone ? (
          <div role="alert" className="notice notice-error" data-testid="slack-link-preview">
            <strong>This link URL cannot be used</strong>
            <p className="notice-message">
              It was used already or has expired (a link URL works once, for 10 minutes): type <code>/deploy link</code> in Slack
              for a new one.
            </p>
          </div>
        ) : usable && preview.error ? (
          <ErrorNotice error={preview.error} title="Portside could not tell which Slack user this link is for" />
        ) : usable && pending ? (
          <>
            <p data-testid="slack-link-preview" className="slack-link-preview">
              You are linking Slack user <strong>{slackName(pending)}</strong>{' '}
              ({[pending.slackUser, pending.handle && pending.name, pending.email].filter(Boolean).join(', ')}) in workspace{' '}
              <code>{pending.teamId}</code> to your Portside account, <strong>{viewer.username}</strong>.
            </p>
            <p>
              In Slack, Portside will then act as you for that Slack user, with your rights. Only confirm a link you asked for
              yourself: whoever made it acts as you. The link URL works until {new Date(pending.expiresAt).toLocaleTimeString()}.
            </p>
            <button type="button" className="button button-primary" onClick={confirm} disabled={linking.fetching}>
              Link my Slack user
            </button>
            <ErrorNotice error={linking.error} title="The Slack user was not linked" />
          </>
        ) : (
          <p>
            Type <code>/deploy link</code> in Slack: Portside answers, only to you, with a link to this page that works once, for
            10 minutes.
          </p>
        )}
      </section>
      <section aria-labelledby="links-heading">
        <h2 id="links-heading">Your linked Slack users</h2>
        {fetching && !data ? (
          <Loading />
        ) : error ? (
          <ErrorNotice error={error} />
        ) : data?.me.slackLinks.length ? (
          <ul aria-label="Linked Slack users">
            {data.me.slackLinks.map((l) => (
              <li key={`${l.teamId}/${l.slackUser}`}>
                <code>{l.slackUser}</code> of workspace <code>{l.teamId}</code>, linked {new Date(l.createdAt as string).toLocaleString()}{' '}
                <button type="button" className="button" onClick={() => remove(l.teamId, l.slackUser)} disabled={unlinking.fetching}>
                  Unlink {l.slackUser}
                </button>
              </li>
            ))}
          </ul>
        ) : (
          <p>No Slack user is linked to you: Portside knows you in Slack by your confirmed e-mail address.</p>
        )}
        <ErrorNotice error={unlinking.error} title="The Slack user was not unlinked" />
      </section>
    </>
  );
}
