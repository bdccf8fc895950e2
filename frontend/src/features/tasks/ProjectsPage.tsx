import { Link } from 'react-router';
import { useQuery } from 'urql';
import { graphql } from '../../gql';
import { ErrorNotice } from '../../components/ErrorNotice';
import { Empty, Loading } from '../../components/States';
import { ago, entityPath, shortRef } from '../../lib/format';
import { projectPath } from './fields';

const ProjectsQuery = graphql(`
  query Projects {
    projects {
      id
      name
      title
      owner
      members
      createdAt
      tasks(first: 1) { totalCount }
    }
  }
`);

/** Every status-meeting project, by name. */
export function ProjectsPage() {
  const [{ data, error, fetching }] = useQuery({ query: ProjectsQuery });
  const projects = data?.projects;
  return (
    <>
      <h1>Projects</h1>
      <p className="muted">The task tables status meetings walk through, each owned by a team.</p>
      {fetching && !data && <Loading label="Loading projects…" />}
      {error && <ErrorNotice error={error} title="Projects could not be loaded" />}
      {projects && projects.length === 0 && (
        <Empty>
          There is no project yet. A team creates one with the <code>createProject</code> mutation or <code>portside tasks project create</code>.
        </Empty>
      )}
      {projects && projects.length > 0 && (
        <div className="table-scroll">
          <table className="table">
            <caption className="visually-hidden">Projects, by name</caption>
            <thead>
              <tr>
                <th scope="col">Project</th>
                <th scope="col">Owner</th>
                <th scope="col">Tasks</th>
                <th scope="col">Created</th>
              </tr>
            </thead>
            <tbody>
              {projects.map((p) => (
                <tr key={p.id}>
                  <th scope="row">
                    <Link to={projectPath(p.name)}>{p.title || p.name}</Link> <span className="muted">{p.name}</span>
                  </th>
                  <td>
                    <Link to={entityPath(p.owner)}>{shortRef(p.owner)}</Link>
                  </td>
                  <td>{p.tasks.totalCount}</td>
                  <td>{ago(p.createdAt)}</td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
    </>
  );
}
