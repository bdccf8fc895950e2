import { graphql } from '../../gql';

// The entity page's query, apart from the page: the router starts it as soon as a navigation to
// the page begins (router.tsx), beside the page's chunk rather than after it, and the page then
// finds it in flight or answered. The document itself is in the shell's bundle anyway (every
// operation is, through gql/), so importing it from the router costs nothing.

// How many of each relation the page asks for; the graph draws fewer and says how many more.
export const RELATIONS = 50;

export const EntityPageQuery = graphql(`
  query EntityPage($ref: String!) {
    entity(ref: $ref) {
      __typename
      id
      ref
      kind
      namespace
      name
      title
      description
      tags
      links { url title }
      ... on Component {
        type
        lifecycle
        ownerRef
        systemRef
        dependsOn(first: 50) { id ref kind name title }
        dependents(first: 50) { id ref kind name title }
        providesApis(first: 50) { id ref kind name title }
        consumesApis(first: 50) { id ref kind name title }
        subcomponents(first: 50) { id ref kind name title }
      }
      ... on API {
        type
        lifecycle
        ownerRef
        systemRef
        definition
        providers(first: 50) { id ref kind name title }
        consumers(first: 50) { id ref kind name title }
      }
      ... on System {
        sysType: type
        ownerRef
        domain { id ref }
        components(first: 100) { id ref kind name title }
        apis(first: 100) { id ref kind name title }
        resources(first: 100) { id ref kind name title }
      }
      ... on Domain {
        domType: type
        ownerRef
        parent { id ref }
        subdomains(first: 100) { id ref kind name title }
        systems(first: 100) { id ref kind name title }
      }
      ... on Resource {
        type
        ownerRef
        systemRef
        dependsOn(first: 50) { id ref kind name title }
        dependents(first: 50) { id ref kind name title }
      }
      ... on Group {
        type
        profile { displayName email }
        parent { id ref }
        children(first: 100) { id ref kind name title }
        members(first: 100) { id ref kind name title }
        owned: ownedEntities(first: 50) { totalCount nodes { id ref kind name title } }
      }
      ... on User {
        profile { displayName email }
        memberOf(first: 100) { id ref kind name title }
        userOwned: ownedEntities(first: 50) { totalCount nodes { id ref kind name title } }
      }
    }
  }
`);

/** The ref the entity page asks for, from its route's parameters. */
export function entityRef(params: { namespace?: string; kind?: string; name?: string }): string {
  return `${params.kind ?? ''}:${params.namespace ?? 'default'}/${params.name ?? ''}`;
}
