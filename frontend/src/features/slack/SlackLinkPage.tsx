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

const Link = graphql(`
  mutation LinkSlackUser($input: LinkSlackUserInput!) { linkSlackUser(input: $input) { teamId slackUser createdAt } }
`);

const Unlink = graphql(`
  mutation UnlinkSlackUser($input: UnlinkSlackUserInput!) { unlinkSlackUser(input: $input) { teamId slackUser } }
`);

// Matches auth's bound on a link token: anything longer is not one, and is not sent.
const MAX_TOKEN = 64;

/**
 * Where `/deploy link` in Slack sends a person: confirming links the Slack user the URL was made
 * for to the signed-in person, who then acts in Slack as themselves. Nothing is linked on load:
 * the person confirms (a link URL someone else sent would make their Slack user act as you). The
 * page also lists the viewer's links, each with Unlink.
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
        ) : usable ? (
          <>
            <p>
              Confirm to link the Slack user that typed <code>/deploy link</code> to you, <strong>{viewer.username}</strong>. In
              Slack, Portside will then act as you for that Slack user, with your rights. Only confirm a link you asked for
              yourself: whoever made it acts as you.
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
