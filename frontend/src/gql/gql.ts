/* eslint-disable */
import * as types from './graphql';
import type { TypedDocumentNode as DocumentNode } from '@graphql-typed-document-node/core';

/**
 * Map of all GraphQL operations in the project.
 *
 * This map has several performance disadvantages:
 * 1. It is not tree-shakeable, so it will include all operations in the project.
 * 2. It is not minifiable, so the string of a GraphQL query will be multiple times inside the bundle.
 * 3. It does not support dead code elimination, so it will add unused operations.
 *
 * Therefore it is highly recommended to use the babel or swc plugin for production.
 * Learn more about it here: https://the-guild.dev/graphql/codegen/plugins/presets/preset-client#reducing-bundle-size
 */
type Documents = {
    "\n  query Shell {\n    me {\n      username\n      displayName\n      email\n      admin\n      groups\n      user {\n        id\n        ref\n      }\n    }\n  }\n": typeof types.ShellDocument,
    "\n  query Audit($filter: AuditFilter, $first: Int!, $after: String) {\n    auditRecords(filter: $filter, first: $first, after: $after) {\n      totalCount\n      pageInfo { hasNextPage endCursor }\n      nodes { id at actor actorKind client action resource outcome code message requestId }\n    }\n  }\n": typeof types.AuditDocument,
    "\n  fragment EntityRow on Entity {\n    id\n    ref\n    kind\n    namespace\n    name\n    title\n    description\n    tags\n    updatedAt\n    ... on Component { type lifecycle ownerRef }\n    ... on API { type lifecycle ownerRef }\n    ... on System { ownerRef }\n    ... on Domain { ownerRef }\n    ... on Resource { type ownerRef }\n    ... on Group { type }\n  }\n": typeof types.EntityRowFragmentDoc,
    "\n  query ExplorerResults($filter: EntityFilter, $orderBy: EntityOrder, $first: Int!, $after: String) {\n    entities(filter: $filter, orderBy: $orderBy, first: $first, after: $after) {\n      totalCount\n      pageInfo { hasNextPage endCursor }\n      nodes { ...EntityRow }\n    }\n  }\n": typeof types.ExplorerResultsDocument,
    "\n  query ExplorerFacets($filter: EntityFilter, $fields: [FacetField!]!) {\n    facets(filter: $filter, fields: $fields, limit: 25) {\n      field\n      values { value count }\n    }\n  }\n": typeof types.ExplorerFacetsDocument,
    "\n  query CatalogRunbookHits($text: String!) {\n    runbooks(filter: { text: $text }, first: 5) {\n      totalCount\n      nodes { id title }\n    }\n  }\n": typeof types.CatalogRunbookHitsDocument,
    "\n  fragment DeployRequestPageFields on DeployRequest {\n    ...DeployRequestFields\n    repo\n    commitSha\n    pullRequestUrl\n    pipelineRun { id pipeline status }\n    transitions { actor client from to note at }\n    viewerCanApprove\n    viewerCanReject\n    viewerCanCancel\n  }\n": typeof types.DeployRequestPageFieldsFragmentDoc,
    "\n  query DeployRequestPage($id: ID!) {\n    deployRequest(id: $id) { ...DeployRequestPageFields }\n  }\n": typeof types.DeployRequestPageDocument,
    "\n  subscription DeployRequestChanged($id: ID!) {\n    deployRequestChanged(id: $id) { request { ...DeployRequestFields } transition { at to note } }\n  }\n": typeof types.DeployRequestChangedDocument,
    "\n  mutation ApproveDeployRequest($input: DeployDecisionInput!) { approveDeployRequest(input: $input) { request { ...DeployRequestPageFields } } }\n": typeof types.ApproveDeployRequestDocument,
    "\n  mutation RejectDeployRequest($input: DeployDecisionInput!) { rejectDeployRequest(input: $input) { request { ...DeployRequestPageFields } } }\n": typeof types.RejectDeployRequestDocument,
    "\n  mutation CancelDeployRequest($input: DeployDecisionInput!) { cancelDeployRequest(input: $input) { request { ...DeployRequestPageFields } } }\n": typeof types.CancelDeployRequestDocument,
    "\n  query ComponentDeployRequests($ref: String!) {\n    entity(ref: $ref) {\n      __typename\n      id\n      ... on Component {\n        viewerCanOperate\n        deployEnvironments { name requiresApproval }\n        deployRequests(first: 5) { totalCount nodes { ...DeployRequestFields } }\n      }\n    }\n  }\n": typeof types.ComponentDeployRequestsDocument,
    "\n  subscription ComponentDeployRequestChanged($component: String!) {\n    deployRequestChanged(component: $component) { request { ...DeployRequestFields } transition { at to } }\n  }\n": typeof types.ComponentDeployRequestChangedDocument,
    "\n  query DeployRequests($filter: DeployRequestFilter, $after: String) {\n    deployRequests(filter: $filter, first: 25, after: $after) {\n      totalCount\n      pageInfo { hasNextPage endCursor }\n      nodes { ...DeployRequestFields }\n    }\n  }\n": typeof types.DeployRequestsDocument,
    "\n  subscription AnyDeployRequestChanged {\n    deployRequestChanged { request { ...DeployRequestFields } transition { at to } }\n  }\n": typeof types.AnyDeployRequestChangedDocument,
    "\n  mutation RequestDeploy($input: RequestDeployInput!) {\n    requestDeploy(input: $input) { request { ...DeployRequestFields } }\n  }\n": typeof types.RequestDeployDocument,
    "\n  fragment DeployRequestFields on DeployRequest {\n    id\n    number\n    component\n    environment\n    version\n    reason\n    requester\n    approver\n    client\n    state\n    waiting\n    outcome\n    createdAt\n    updatedAt\n    expiresAt\n  }\n": typeof types.DeployRequestFieldsFragmentDoc,
    "\n  fragment DeploymentFields on Deployment {\n    instance\n    appNamespace\n    application\n    environment\n    cluster\n    namespace\n    syncStatus\n    health\n    revision\n    lastSyncedAt\n    stale\n    removed\n    operation { phase message startedAt finishedAt requestedBy }\n    canary {\n      strategy\n      currentStep\n      setWeight\n      actualWeight\n      phase\n      aborted\n      pausedReason\n      steps { kind weight pause }\n    }\n  }\n": typeof types.DeploymentFieldsFragmentDoc,
    "\n  fragment RolloutFields on Rollout {\n    id\n    instance\n    application\n    appNamespace\n    environment\n    revision\n    result\n    message\n    startedAt\n    finishedAt\n    requestedBy\n    initiatedBy\n    historyId\n    commit { author message }\n  }\n": typeof types.RolloutFieldsFragmentDoc,
    "\n  query ComponentDelivery($ref: String!) {\n    entity(ref: $ref) {\n      __typename\n      id\n      ... on Component {\n        viewerCanOperate\n        location { id }\n        deployments { ...DeploymentFields }\n        rollouts(first: 10) { totalCount nodes { ...RolloutFields } }\n      }\n    }\n  }\n": typeof types.ComponentDeliveryDocument,
    "\n  subscription DeploymentChanged($component: String!) {\n    deploymentChanged(component: $component, current: true) { ...DeploymentFields }\n  }\n": typeof types.DeploymentChangedDocument,
    "\n  subscription RolloutChanged($component: String!) {\n    rolloutChanged(component: $component) { ...RolloutFields }\n  }\n": typeof types.RolloutChangedDocument,
    "\n  mutation Sync($input: SyncDeploymentInput!) { syncDeployment(input: $input) { deployment { ...DeploymentFields } } }\n": typeof types.SyncDocument,
    "\n  mutation RefreshDeployment($input: RefreshDeploymentInput!) { refreshDeployment(input: $input) { deployment { ...DeploymentFields } } }\n": typeof types.RefreshDeploymentDocument,
    "\n  mutation Terminate($input: DeploymentInput!) { terminateDeploymentOperation(input: $input) { deployment { ...DeploymentFields } } }\n": typeof types.TerminateDocument,
    "\n  mutation Promote($input: PromoteDeploymentInput!) { promoteDeployment(input: $input) { deployment { instance appNamespace application } } }\n": typeof types.PromoteDocument,
    "\n  mutation Abort($input: DeploymentInput!) { abortDeployment(input: $input) { deployment { instance appNamespace application } } }\n": typeof types.AbortDocument,
    "\n  mutation Retry($input: DeploymentInput!) { retryDeployment(input: $input) { deployment { instance appNamespace application } } }\n": typeof types.RetryDocument,
    "\n  mutation Rollback($input: RollbackDeploymentInput!) { rollbackDeployment(input: $input) { deployment { ...DeploymentFields } } }\n": typeof types.RollbackDocument,
    "\n  mutation RefreshEntityLocation($id: ID!) { refreshLocation(id: $id) { unchanged added updated removed location { id status } } }\n": typeof types.RefreshEntityLocationDocument,
    "\n  query EntityDora($ref: String!, $b0: Time!, $b1: Time!, $b2: Time!, $b3: Time!, $b4: Time!, $b5: Time!, $b6: Time!, $b7: Time!, $b8: Time!) {\n    entity(ref: $ref) {\n      __typename\n      id\n      ... on Component {\n        dora { deployments deploymentsPerDay leadTimeSeconds changeFailureRate timeToRestoreSeconds }\n        w0: dora(since: $b0, until: $b1) { since deployments }\n        w1: dora(since: $b1, until: $b2) { since deployments }\n        w2: dora(since: $b2, until: $b3) { since deployments }\n        w3: dora(since: $b3, until: $b4) { since deployments }\n        w4: dora(since: $b4, until: $b5) { since deployments }\n        w5: dora(since: $b5, until: $b6) { since deployments }\n        w6: dora(since: $b6, until: $b7) { since deployments }\n        w7: dora(since: $b7, until: $b8) { since deployments }\n      }\n      ... on Group {\n        dora { deployments deploymentsPerDay leadTimeSeconds changeFailureRate timeToRestoreSeconds }\n        w0: dora(since: $b0, until: $b1) { since deployments }\n        w1: dora(since: $b1, until: $b2) { since deployments }\n        w2: dora(since: $b2, until: $b3) { since deployments }\n        w3: dora(since: $b3, until: $b4) { since deployments }\n        w4: dora(since: $b4, until: $b5) { since deployments }\n        w5: dora(since: $b5, until: $b6) { since deployments }\n        w6: dora(since: $b6, until: $b7) { since deployments }\n        w7: dora(since: $b7, until: $b8) { since deployments }\n      }\n    }\n  }\n": typeof types.EntityDoraDocument,
    "\n  query EntityPage($ref: String!) {\n    entity(ref: $ref) {\n      __typename\n      id\n      ref\n      kind\n      namespace\n      name\n      title\n      description\n      tags\n      links { url title }\n      ... on Component {\n        type\n        lifecycle\n        ownerRef\n        systemRef\n        dependsOn(first: 50) { id ref kind name title }\n        dependents(first: 50) { id ref kind name title }\n        providesApis(first: 50) { id ref kind name title }\n        consumesApis(first: 50) { id ref kind name title }\n        subcomponents(first: 50) { id ref kind name title }\n      }\n      ... on API {\n        type\n        lifecycle\n        ownerRef\n        systemRef\n        definition\n        providers(first: 50) { id ref kind name title }\n        consumers(first: 50) { id ref kind name title }\n      }\n      ... on System {\n        sysType: type\n        ownerRef\n        domain { id ref }\n        components(first: 100) { id ref kind name title }\n        apis(first: 100) { id ref kind name title }\n        resources(first: 100) { id ref kind name title }\n      }\n      ... on Domain {\n        domType: type\n        ownerRef\n        parent { id ref }\n        subdomains(first: 100) { id ref kind name title }\n        systems(first: 100) { id ref kind name title }\n      }\n      ... on Resource {\n        type\n        ownerRef\n        systemRef\n        dependsOn(first: 50) { id ref kind name title }\n        dependents(first: 50) { id ref kind name title }\n      }\n      ... on Group {\n        type\n        profile { displayName email }\n        parent { id ref }\n        children(first: 100) { id ref kind name title }\n        members(first: 100) { id ref kind name title }\n        owned: ownedEntities(first: 50) { totalCount nodes { id ref kind name title } }\n      }\n      ... on User {\n        profile { displayName email }\n        memberOf(first: 100) { id ref kind name title }\n        userOwned: ownedEntities(first: 50) { totalCount nodes { id ref kind name title } }\n      }\n    }\n  }\n": typeof types.EntityPageDocument,
    "\n  query Home($owners: [String!]!) {\n    entities(filter: { owners: $owners, includeDescendantGroups: true, kinds: [\"Component\"] }, orderBy: { field: NAME }, first: 50) {\n      totalCount\n      nodes {\n        __typename\n        id\n        ref\n        name\n        title\n        description\n        ... on Component {\n          type\n          lifecycle\n          ownerRef\n          deployments { instance appNamespace application environment syncStatus health stale }\n        }\n      }\n    }\n  }\n": typeof types.HomeDocument,
    "\n  query HomeRollouts($components: [String!]!) {\n    rollouts(filter: { components: $components }, first: 10) {\n      totalCount\n      nodes { id instance appNamespace application environment revision result startedAt requestedBy initiatedBy }\n    }\n  }\n": typeof types.HomeRolloutsDocument,
    "\n  fragment LocationErrorRow on LocationError {\n    source\n    document\n    line\n    field\n    entityRef\n    message\n  }\n": typeof types.LocationErrorRowFragmentDoc,
    "\n  query Locations {\n    locations(first: 100) {\n      totalCount\n      nodes {\n        id\n        type\n        target\n        ref\n        path\n        status\n        message\n        entityCount\n        errorCount\n        refreshedAt\n        viewerCanRefresh\n        errors(first: 10) { ...LocationErrorRow }\n      }\n    }\n  }\n": typeof types.LocationsDocument,
    "\n  mutation RegisterLocation($input: RegisterLocationInput!) {\n    registerLocation(input: $input) {\n      added\n      updated\n      location { id status entityCount errorCount }\n      errors { ...LocationErrorRow }\n    }\n  }\n": typeof types.RegisterLocationDocument,
    "\n  mutation RefreshLocationPage($id: ID!) {\n    refreshLocation(id: $id) { unchanged added updated removed location { id status entityCount errorCount refreshedAt } }\n  }\n": typeof types.RefreshLocationPageDocument,
    "\n  mutation UnregisterLocation($id: ID!) { unregisterLocation(id: $id) { id removedEntities } }\n": typeof types.UnregisterLocationDocument,
    "\n  query ComponentPipelines($ref: String!) {\n    entity(ref: $ref) {\n      __typename\n      id\n      ... on Component {\n        viewerCanOperate\n        pipelines {\n          ...PipelineFields\n          runs(first: 5) { totalCount nodes { ...PipelineRunFields } }\n        }\n      }\n    }\n  }\n": typeof types.ComponentPipelinesDocument,
    "\n  subscription ComponentPipelineRunChanged($component: String!) {\n    pipelineRunChanged(component: $component) { ...PipelineRunFields }\n  }\n": typeof types.ComponentPipelineRunChangedDocument,
    "\n  mutation TriggerPipeline($input: TriggerPipelineInput!) {\n    triggerPipeline(input: $input) { run { ...PipelineRunFields } }\n  }\n": typeof types.TriggerPipelineDocument,
    "\n  query PipelineRunPage($id: ID!) {\n    pipelineRun(id: $id) {\n      ...PipelineRunFields\n      retryOf { id status createdAt }\n    }\n  }\n": typeof types.PipelineRunPageDocument,
    "\n  query PipelineRunComponent($ref: String!) {\n    entity(ref: $ref) {\n      __typename\n      id\n      title\n      ... on Component { viewerCanOperate }\n    }\n  }\n": typeof types.PipelineRunComponentDocument,
    "\n  subscription PipelineRunChanged($id: ID!) {\n    pipelineRunChanged(id: $id) { ...PipelineRunFields }\n  }\n": typeof types.PipelineRunChangedDocument,
    "\n  mutation CancelPipelineRun($input: PipelineRunInput!) { cancelPipelineRun(input: $input) { run { ...PipelineRunFields } } }\n": typeof types.CancelPipelineRunDocument,
    "\n  mutation RetryPipelineRun($input: PipelineRunInput!) { retryPipelineRun(input: $input) { run { ...PipelineRunFields } } }\n": typeof types.RetryPipelineRunDocument,
    "\n  query PipelineRuns($filter: PipelineRunFilter, $after: String) {\n    pipelineRuns(filter: $filter, first: 25, after: $after) {\n      totalCount\n      pageInfo { hasNextPage endCursor }\n      nodes { ...PipelineRunFields }\n    }\n  }\n": typeof types.PipelineRunsDocument,
    "\n  subscription AnyPipelineRunChanged($component: String, $pipeline: String) {\n    pipelineRunChanged(component: $component, pipeline: $pipeline) { ...PipelineRunFields }\n  }\n": typeof types.AnyPipelineRunChangedDocument,
    "\n  fragment PipelineRunFields on PipelineRun {\n    id\n    component\n    pipeline\n    provider\n    providerRunId\n    url\n    attempt\n    ref\n    commitSha\n    parameters { name value }\n    triggeredBy\n    client\n    status\n    message\n    stages { name status startedAt finishedAt durationSeconds logUrl }\n    artifacts { name image version }\n    retryOfId\n    createdAt\n    startedAt\n    finishedAt\n    updatedAt\n  }\n": typeof types.PipelineRunFieldsFragmentDoc,
    "\n  fragment PipelineFields on Pipeline {\n    component\n    name\n    provider\n    repository\n    workflow\n    defaultRef\n    stages\n    parameters { name type description options default required }\n  }\n": typeof types.PipelineFieldsFragmentDoc,
    "\n  query RunbookPage($id: ID!) {\n    runbook(id: $id) {\n      id\n      title\n      kind\n      url\n      markdown\n      html\n      version\n      versions(first: 100) { version title author message createdAt }\n      linkedRefs\n      linkedEntities {\n        __typename\n        id\n        ref\n        title\n        name\n        ... on Component { viewerCanOperate }\n      }\n      linkStatus { state httpStatus message checkedAt }\n      createdBy\n      createdAt\n      updatedBy\n      updatedAt\n    }\n  }\n": typeof types.RunbookPageDocument,
    "\n  query RunbookDiff($id: ID!, $from: Int!, $to: Int!) {\n    runbook(id: $id) { id diff(from: $from, to: $to) }\n  }\n": typeof types.RunbookDiffDocument,
    "\n  mutation UpdateRunbook($input: UpdateRunbookInput!) {\n    updateRunbook(input: $input) { runbook { id title markdown html url version updatedAt updatedBy } }\n  }\n": typeof types.UpdateRunbookDocument,
    "\n  query Runbooks($filter: RunbookFilter, $after: String) {\n    runbooks(filter: $filter, first: 50, after: $after) {\n      totalCount\n      pageInfo { hasNextPage endCursor }\n      nodes { id title kind version linkedRefs updatedAt updatedBy }\n    }\n  }\n": typeof types.RunbooksDocument,
    "\n  query ComponentRunbooks($ref: String!) {\n    entity(ref: $ref) {\n      __typename\n      id\n      ... on Component {\n        runbooks { id title kind version }\n        runbookLinks { ...CatalogLinkFields }\n        dashboards { ...CatalogLinkFields }\n        grafana { dashboardSelector alertLabelSelector }\n      }\n    }\n  }\n": typeof types.ComponentRunbooksDocument,
    "\n  fragment CatalogLinkFields on CatalogLink {\n    kind\n    title\n    url\n    template\n    source\n    missing\n    status { state httpStatus message }\n  }\n": typeof types.CatalogLinkFieldsFragmentDoc,
    "\n  query SlackLinks {\n    me { slackLinks { teamId slackUser createdAt } }\n  }\n": typeof types.SlackLinksDocument,
    "\n  query SlackLinkPreview($token: String!) {\n    slackLinkPreview(token: $token) { teamId slackUser handle name email expiresAt }\n  }\n": typeof types.SlackLinkPreviewDocument,
    "\n  mutation LinkSlackUser($input: LinkSlackUserInput!) { linkSlackUser(input: $input) { teamId slackUser createdAt } }\n": typeof types.LinkSlackUserDocument,
    "\n  mutation UnlinkSlackUser($input: UnlinkSlackUserInput!) { unlinkSlackUser(input: $input) { teamId slackUser } }\n": typeof types.UnlinkSlackUserDocument,
    "\n  query ProjectPage($name: String!, $filter: ProjectTaskFilter, $first: Int!, $after: String) {\n    project(name: $name) {\n      id\n      name\n      title\n      owner\n      members\n      viewerCanEdit\n      createdBy\n      createdAt\n      tasks(filter: $filter, first: $first, after: $after) {\n        totalCount\n        pageInfo { hasNextPage endCursor }\n        nodes { ...TaskFields }\n      }\n    }\n  }\n": typeof types.ProjectPageDocument,
    "\n  query ProjectMeetings($name: String!) {\n    project(name: $name) {\n      id\n      changesSinceLastMeeting { taskId title kind oldValue newValue }\n      meetings(first: 20) {\n        id\n        heldAt\n        notes\n        createdBy\n        changes { taskId title kind oldValue newValue }\n      }\n    }\n  }\n": typeof types.ProjectMeetingsDocument,
    "\n  subscription ProjectTaskChanged($project: String) {\n    taskChanged(project: $project) {\n      project\n      taskId\n      deleted\n      task { ...TaskFields }\n    }\n  }\n": typeof types.ProjectTaskChangedDocument,
    "\n  query ExportTasks($project: String!, $format: TaskTableFormat) {\n    exportTasks(project: $project, format: $format)\n  }\n": typeof types.ExportTasksDocument,
    "\n  mutation ImportTasks($input: ImportTasksInput!) {\n    importTasks(input: $input) {\n      created\n      updated\n      unchanged\n      errors { row line column message }\n      tasks { ...TaskFields }\n    }\n  }\n": typeof types.ImportTasksDocument,
    "\n  mutation CreateMeeting($input: CreateMeetingInput!) {\n    createMeeting(input: $input) { meeting { id heldAt } }\n  }\n": typeof types.CreateMeetingDocument,
    "\n  query Projects {\n    projects {\n      id\n      name\n      title\n      owner\n      members\n      createdAt\n      tasks(first: 1) { totalCount }\n    }\n  }\n": typeof types.ProjectsDocument,
    "\n  query TaskPage($id: ID!, $first: Int!) {\n    task(id: $id) {\n      ...TaskFields\n      viewerCanEdit\n      createdBy\n      createdAt\n      comments(first: $first) { id author body createdAt }\n      history(first: $first) { actor at field oldValue newValue }\n    }\n  }\n": typeof types.TaskPageDocument,
    "\n  query TaskProject($name: String!) {\n    project(name: $name) { id name title owner members }\n  }\n": typeof types.TaskProjectDocument,
    "\n  subscription TaskPageChanged($project: String) {\n    taskChanged(project: $project) { project taskId deleted task { ...TaskFields } }\n  }\n": typeof types.TaskPageChangedDocument,
    "\n  mutation UpdateTask($input: UpdateTaskInput!) {\n    updateTask(input: $input) { task { ...TaskFields } }\n  }\n": typeof types.UpdateTaskDocument,
    "\n  mutation AddTaskComment($input: AddTaskCommentInput!) {\n    addTaskComment(input: $input) { comment { id author body createdAt } task { id } }\n  }\n": typeof types.AddTaskCommentDocument,
    "\n  fragment TaskFields on Task {\n    id\n    project\n    title\n    priority\n    assignee\n    status\n    comment\n    due\n    labels\n    links { kind target }\n    version\n    updatedBy\n    updatedAt\n  }\n": typeof types.TaskFieldsFragmentDoc,
    "\n  query Me {\n    me {\n      username\n    }\n  }\n": typeof types.MeDocument,
    "\n  subscription RereadTestChanged {\n    taskChanged(project: \"p\") {\n      taskId\n    }\n  }\n": typeof types.RereadTestChangedDocument,
};
const documents: Documents = {
    "\n  query Shell {\n    me {\n      username\n      displayName\n      email\n      admin\n      groups\n      user {\n        id\n        ref\n      }\n    }\n  }\n": types.ShellDocument,
    "\n  query Audit($filter: AuditFilter, $first: Int!, $after: String) {\n    auditRecords(filter: $filter, first: $first, after: $after) {\n      totalCount\n      pageInfo { hasNextPage endCursor }\n      nodes { id at actor actorKind client action resource outcome code message requestId }\n    }\n  }\n": types.AuditDocument,
    "\n  fragment EntityRow on Entity {\n    id\n    ref\n    kind\n    namespace\n    name\n    title\n    description\n    tags\n    updatedAt\n    ... on Component { type lifecycle ownerRef }\n    ... on API { type lifecycle ownerRef }\n    ... on System { ownerRef }\n    ... on Domain { ownerRef }\n    ... on Resource { type ownerRef }\n    ... on Group { type }\n  }\n": types.EntityRowFragmentDoc,
    "\n  query ExplorerResults($filter: EntityFilter, $orderBy: EntityOrder, $first: Int!, $after: String) {\n    entities(filter: $filter, orderBy: $orderBy, first: $first, after: $after) {\n      totalCount\n      pageInfo { hasNextPage endCursor }\n      nodes { ...EntityRow }\n    }\n  }\n": types.ExplorerResultsDocument,
    "\n  query ExplorerFacets($filter: EntityFilter, $fields: [FacetField!]!) {\n    facets(filter: $filter, fields: $fields, limit: 25) {\n      field\n      values { value count }\n    }\n  }\n": types.ExplorerFacetsDocument,
    "\n  query CatalogRunbookHits($text: String!) {\n    runbooks(filter: { text: $text }, first: 5) {\n      totalCount\n      nodes { id title }\n    }\n  }\n": types.CatalogRunbookHitsDocument,
    "\n  fragment DeployRequestPageFields on DeployRequest {\n    ...DeployRequestFields\n    repo\n    commitSha\n    pullRequestUrl\n    pipelineRun { id pipeline status }\n    transitions { actor client from to note at }\n    viewerCanApprove\n    viewerCanReject\n    viewerCanCancel\n  }\n": types.DeployRequestPageFieldsFragmentDoc,
    "\n  query DeployRequestPage($id: ID!) {\n    deployRequest(id: $id) { ...DeployRequestPageFields }\n  }\n": types.DeployRequestPageDocument,
    "\n  subscription DeployRequestChanged($id: ID!) {\n    deployRequestChanged(id: $id) { request { ...DeployRequestFields } transition { at to note } }\n  }\n": types.DeployRequestChangedDocument,
    "\n  mutation ApproveDeployRequest($input: DeployDecisionInput!) { approveDeployRequest(input: $input) { request { ...DeployRequestPageFields } } }\n": types.ApproveDeployRequestDocument,
    "\n  mutation RejectDeployRequest($input: DeployDecisionInput!) { rejectDeployRequest(input: $input) { request { ...DeployRequestPageFields } } }\n": types.RejectDeployRequestDocument,
    "\n  mutation CancelDeployRequest($input: DeployDecisionInput!) { cancelDeployRequest(input: $input) { request { ...DeployRequestPageFields } } }\n": types.CancelDeployRequestDocument,
    "\n  query ComponentDeployRequests($ref: String!) {\n    entity(ref: $ref) {\n      __typename\n      id\n      ... on Component {\n        viewerCanOperate\n        deployEnvironments { name requiresApproval }\n        deployRequests(first: 5) { totalCount nodes { ...DeployRequestFields } }\n      }\n    }\n  }\n": types.ComponentDeployRequestsDocument,
    "\n  subscription ComponentDeployRequestChanged($component: String!) {\n    deployRequestChanged(component: $component) { request { ...DeployRequestFields } transition { at to } }\n  }\n": types.ComponentDeployRequestChangedDocument,
    "\n  query DeployRequests($filter: DeployRequestFilter, $after: String) {\n    deployRequests(filter: $filter, first: 25, after: $after) {\n      totalCount\n      pageInfo { hasNextPage endCursor }\n      nodes { ...DeployRequestFields }\n    }\n  }\n": types.DeployRequestsDocument,
    "\n  subscription AnyDeployRequestChanged {\n    deployRequestChanged { request { ...DeployRequestFields } transition { at to } }\n  }\n": types.AnyDeployRequestChangedDocument,
    "\n  mutation RequestDeploy($input: RequestDeployInput!) {\n    requestDeploy(input: $input) { request { ...DeployRequestFields } }\n  }\n": types.RequestDeployDocument,
    "\n  fragment DeployRequestFields on DeployRequest {\n    id\n    number\n    component\n    environment\n    version\n    reason\n    requester\n    approver\n    client\n    state\n    waiting\n    outcome\n    createdAt\n    updatedAt\n    expiresAt\n  }\n": types.DeployRequestFieldsFragmentDoc,
    "\n  fragment DeploymentFields on Deployment {\n    instance\n    appNamespace\n    application\n    environment\n    cluster\n    namespace\n    syncStatus\n    health\n    revision\n    lastSyncedAt\n    stale\n    removed\n    operation { phase message startedAt finishedAt requestedBy }\n    canary {\n      strategy\n      currentStep\n      setWeight\n      actualWeight\n      phase\n      aborted\n      pausedReason\n      steps { kind weight pause }\n    }\n  }\n": types.DeploymentFieldsFragmentDoc,
    "\n  fragment RolloutFields on Rollout {\n    id\n    instance\n    application\n    appNamespace\n    environment\n    revision\n    result\n    message\n    startedAt\n    finishedAt\n    requestedBy\n    initiatedBy\n    historyId\n    commit { author message }\n  }\n": types.RolloutFieldsFragmentDoc,
    "\n  query ComponentDelivery($ref: String!) {\n    entity(ref: $ref) {\n      __typename\n      id\n      ... on Component {\n        viewerCanOperate\n        location { id }\n        deployments { ...DeploymentFields }\n        rollouts(first: 10) { totalCount nodes { ...RolloutFields } }\n      }\n    }\n  }\n": types.ComponentDeliveryDocument,
    "\n  subscription DeploymentChanged($component: String!) {\n    deploymentChanged(component: $component, current: true) { ...DeploymentFields }\n  }\n": types.DeploymentChangedDocument,
    "\n  subscription RolloutChanged($component: String!) {\n    rolloutChanged(component: $component) { ...RolloutFields }\n  }\n": types.RolloutChangedDocument,
    "\n  mutation Sync($input: SyncDeploymentInput!) { syncDeployment(input: $input) { deployment { ...DeploymentFields } } }\n": types.SyncDocument,
    "\n  mutation RefreshDeployment($input: RefreshDeploymentInput!) { refreshDeployment(input: $input) { deployment { ...DeploymentFields } } }\n": types.RefreshDeploymentDocument,
    "\n  mutation Terminate($input: DeploymentInput!) { terminateDeploymentOperation(input: $input) { deployment { ...DeploymentFields } } }\n": types.TerminateDocument,
    "\n  mutation Promote($input: PromoteDeploymentInput!) { promoteDeployment(input: $input) { deployment { instance appNamespace application } } }\n": types.PromoteDocument,
    "\n  mutation Abort($input: DeploymentInput!) { abortDeployment(input: $input) { deployment { instance appNamespace application } } }\n": types.AbortDocument,
    "\n  mutation Retry($input: DeploymentInput!) { retryDeployment(input: $input) { deployment { instance appNamespace application } } }\n": types.RetryDocument,
    "\n  mutation Rollback($input: RollbackDeploymentInput!) { rollbackDeployment(input: $input) { deployment { ...DeploymentFields } } }\n": types.RollbackDocument,
    "\n  mutation RefreshEntityLocation($id: ID!) { refreshLocation(id: $id) { unchanged added updated removed location { id status } } }\n": types.RefreshEntityLocationDocument,
    "\n  query EntityDora($ref: String!, $b0: Time!, $b1: Time!, $b2: Time!, $b3: Time!, $b4: Time!, $b5: Time!, $b6: Time!, $b7: Time!, $b8: Time!) {\n    entity(ref: $ref) {\n      __typename\n      id\n      ... on Component {\n        dora { deployments deploymentsPerDay leadTimeSeconds changeFailureRate timeToRestoreSeconds }\n        w0: dora(since: $b0, until: $b1) { since deployments }\n        w1: dora(since: $b1, until: $b2) { since deployments }\n        w2: dora(since: $b2, until: $b3) { since deployments }\n        w3: dora(since: $b3, until: $b4) { since deployments }\n        w4: dora(since: $b4, until: $b5) { since deployments }\n        w5: dora(since: $b5, until: $b6) { since deployments }\n        w6: dora(since: $b6, until: $b7) { since deployments }\n        w7: dora(since: $b7, until: $b8) { since deployments }\n      }\n      ... on Group {\n        dora { deployments deploymentsPerDay leadTimeSeconds changeFailureRate timeToRestoreSeconds }\n        w0: dora(since: $b0, until: $b1) { since deployments }\n        w1: dora(since: $b1, until: $b2) { since deployments }\n        w2: dora(since: $b2, until: $b3) { since deployments }\n        w3: dora(since: $b3, until: $b4) { since deployments }\n        w4: dora(since: $b4, until: $b5) { since deployments }\n        w5: dora(since: $b5, until: $b6) { since deployments }\n        w6: dora(since: $b6, until: $b7) { since deployments }\n        w7: dora(since: $b7, until: $b8) { since deployments }\n      }\n    }\n  }\n": types.EntityDoraDocument,
    "\n  query EntityPage($ref: String!) {\n    entity(ref: $ref) {\n      __typename\n      id\n      ref\n      kind\n      namespace\n      name\n      title\n      description\n      tags\n      links { url title }\n      ... on Component {\n        type\n        lifecycle\n        ownerRef\n        systemRef\n        dependsOn(first: 50) { id ref kind name title }\n        dependents(first: 50) { id ref kind name title }\n        providesApis(first: 50) { id ref kind name title }\n        consumesApis(first: 50) { id ref kind name title }\n        subcomponents(first: 50) { id ref kind name title }\n      }\n      ... on API {\n        type\n        lifecycle\n        ownerRef\n        systemRef\n        definition\n        providers(first: 50) { id ref kind name title }\n        consumers(first: 50) { id ref kind name title }\n      }\n      ... on System {\n        sysType: type\n        ownerRef\n        domain { id ref }\n        components(first: 100) { id ref kind name title }\n        apis(first: 100) { id ref kind name title }\n        resources(first: 100) { id ref kind name title }\n      }\n      ... on Domain {\n        domType: type\n        ownerRef\n        parent { id ref }\n        subdomains(first: 100) { id ref kind name title }\n        systems(first: 100) { id ref kind name title }\n      }\n      ... on Resource {\n        type\n        ownerRef\n        systemRef\n        dependsOn(first: 50) { id ref kind name title }\n        dependents(first: 50) { id ref kind name title }\n      }\n      ... on Group {\n        type\n        profile { displayName email }\n        parent { id ref }\n        children(first: 100) { id ref kind name title }\n        members(first: 100) { id ref kind name title }\n        owned: ownedEntities(first: 50) { totalCount nodes { id ref kind name title } }\n      }\n      ... on User {\n        profile { displayName email }\n        memberOf(first: 100) { id ref kind name title }\n        userOwned: ownedEntities(first: 50) { totalCount nodes { id ref kind name title } }\n      }\n    }\n  }\n": types.EntityPageDocument,
    "\n  query Home($owners: [String!]!) {\n    entities(filter: { owners: $owners, includeDescendantGroups: true, kinds: [\"Component\"] }, orderBy: { field: NAME }, first: 50) {\n      totalCount\n      nodes {\n        __typename\n        id\n        ref\n        name\n        title\n        description\n        ... on Component {\n          type\n          lifecycle\n          ownerRef\n          deployments { instance appNamespace application environment syncStatus health stale }\n        }\n      }\n    }\n  }\n": types.HomeDocument,
    "\n  query HomeRollouts($components: [String!]!) {\n    rollouts(filter: { components: $components }, first: 10) {\n      totalCount\n      nodes { id instance appNamespace application environment revision result startedAt requestedBy initiatedBy }\n    }\n  }\n": types.HomeRolloutsDocument,
    "\n  fragment LocationErrorRow on LocationError {\n    source\n    document\n    line\n    field\n    entityRef\n    message\n  }\n": types.LocationErrorRowFragmentDoc,
    "\n  query Locations {\n    locations(first: 100) {\n      totalCount\n      nodes {\n        id\n        type\n        target\n        ref\n        path\n        status\n        message\n        entityCount\n        errorCount\n        refreshedAt\n        viewerCanRefresh\n        errors(first: 10) { ...LocationErrorRow }\n      }\n    }\n  }\n": types.LocationsDocument,
    "\n  mutation RegisterLocation($input: RegisterLocationInput!) {\n    registerLocation(input: $input) {\n      added\n      updated\n      location { id status entityCount errorCount }\n      errors { ...LocationErrorRow }\n    }\n  }\n": types.RegisterLocationDocument,
    "\n  mutation RefreshLocationPage($id: ID!) {\n    refreshLocation(id: $id) { unchanged added updated removed location { id status entityCount errorCount refreshedAt } }\n  }\n": types.RefreshLocationPageDocument,
    "\n  mutation UnregisterLocation($id: ID!) { unregisterLocation(id: $id) { id removedEntities } }\n": types.UnregisterLocationDocument,
    "\n  query ComponentPipelines($ref: String!) {\n    entity(ref: $ref) {\n      __typename\n      id\n      ... on Component {\n        viewerCanOperate\n        pipelines {\n          ...PipelineFields\n          runs(first: 5) { totalCount nodes { ...PipelineRunFields } }\n        }\n      }\n    }\n  }\n": types.ComponentPipelinesDocument,
    "\n  subscription ComponentPipelineRunChanged($component: String!) {\n    pipelineRunChanged(component: $component) { ...PipelineRunFields }\n  }\n": types.ComponentPipelineRunChangedDocument,
    "\n  mutation TriggerPipeline($input: TriggerPipelineInput!) {\n    triggerPipeline(input: $input) { run { ...PipelineRunFields } }\n  }\n": types.TriggerPipelineDocument,
    "\n  query PipelineRunPage($id: ID!) {\n    pipelineRun(id: $id) {\n      ...PipelineRunFields\n      retryOf { id status createdAt }\n    }\n  }\n": types.PipelineRunPageDocument,
    "\n  query PipelineRunComponent($ref: String!) {\n    entity(ref: $ref) {\n      __typename\n      id\n      title\n      ... on Component { viewerCanOperate }\n    }\n  }\n": types.PipelineRunComponentDocument,
    "\n  subscription PipelineRunChanged($id: ID!) {\n    pipelineRunChanged(id: $id) { ...PipelineRunFields }\n  }\n": types.PipelineRunChangedDocument,
    "\n  mutation CancelPipelineRun($input: PipelineRunInput!) { cancelPipelineRun(input: $input) { run { ...PipelineRunFields } } }\n": types.CancelPipelineRunDocument,
    "\n  mutation RetryPipelineRun($input: PipelineRunInput!) { retryPipelineRun(input: $input) { run { ...PipelineRunFields } } }\n": types.RetryPipelineRunDocument,
    "\n  query PipelineRuns($filter: PipelineRunFilter, $after: String) {\n    pipelineRuns(filter: $filter, first: 25, after: $after) {\n      totalCount\n      pageInfo { hasNextPage endCursor }\n      nodes { ...PipelineRunFields }\n    }\n  }\n": types.PipelineRunsDocument,
    "\n  subscription AnyPipelineRunChanged($component: String, $pipeline: String) {\n    pipelineRunChanged(component: $component, pipeline: $pipeline) { ...PipelineRunFields }\n  }\n": types.AnyPipelineRunChangedDocument,
    "\n  fragment PipelineRunFields on PipelineRun {\n    id\n    component\n    pipeline\n    provider\n    providerRunId\n    url\n    attempt\n    ref\n    commitSha\n    parameters { name value }\n    triggeredBy\n    client\n    status\n    message\n    stages { name status startedAt finishedAt durationSeconds logUrl }\n    artifacts { name image version }\n    retryOfId\n    createdAt\n    startedAt\n    finishedAt\n    updatedAt\n  }\n": types.PipelineRunFieldsFragmentDoc,
    "\n  fragment PipelineFields on Pipeline {\n    component\n    name\n    provider\n    repository\n    workflow\n    defaultRef\n    stages\n    parameters { name type description options default required }\n  }\n": types.PipelineFieldsFragmentDoc,
    "\n  query RunbookPage($id: ID!) {\n    runbook(id: $id) {\n      id\n      title\n      kind\n      url\n      markdown\n      html\n      version\n      versions(first: 100) { version title author message createdAt }\n      linkedRefs\n      linkedEntities {\n        __typename\n        id\n        ref\n        title\n        name\n        ... on Component { viewerCanOperate }\n      }\n      linkStatus { state httpStatus message checkedAt }\n      createdBy\n      createdAt\n      updatedBy\n      updatedAt\n    }\n  }\n": types.RunbookPageDocument,
    "\n  query RunbookDiff($id: ID!, $from: Int!, $to: Int!) {\n    runbook(id: $id) { id diff(from: $from, to: $to) }\n  }\n": types.RunbookDiffDocument,
    "\n  mutation UpdateRunbook($input: UpdateRunbookInput!) {\n    updateRunbook(input: $input) { runbook { id title markdown html url version updatedAt updatedBy } }\n  }\n": types.UpdateRunbookDocument,
    "\n  query Runbooks($filter: RunbookFilter, $after: String) {\n    runbooks(filter: $filter, first: 50, after: $after) {\n      totalCount\n      pageInfo { hasNextPage endCursor }\n      nodes { id title kind version linkedRefs updatedAt updatedBy }\n    }\n  }\n": types.RunbooksDocument,
    "\n  query ComponentRunbooks($ref: String!) {\n    entity(ref: $ref) {\n      __typename\n      id\n      ... on Component {\n        runbooks { id title kind version }\n        runbookLinks { ...CatalogLinkFields }\n        dashboards { ...CatalogLinkFields }\n        grafana { dashboardSelector alertLabelSelector }\n      }\n    }\n  }\n": types.ComponentRunbooksDocument,
    "\n  fragment CatalogLinkFields on CatalogLink {\n    kind\n    title\n    url\n    template\n    source\n    missing\n    status { state httpStatus message }\n  }\n": types.CatalogLinkFieldsFragmentDoc,
    "\n  query SlackLinks {\n    me { slackLinks { teamId slackUser createdAt } }\n  }\n": types.SlackLinksDocument,
    "\n  query SlackLinkPreview($token: String!) {\n    slackLinkPreview(token: $token) { teamId slackUser handle name email expiresAt }\n  }\n": types.SlackLinkPreviewDocument,
    "\n  mutation LinkSlackUser($input: LinkSlackUserInput!) { linkSlackUser(input: $input) { teamId slackUser createdAt } }\n": types.LinkSlackUserDocument,
    "\n  mutation UnlinkSlackUser($input: UnlinkSlackUserInput!) { unlinkSlackUser(input: $input) { teamId slackUser } }\n": types.UnlinkSlackUserDocument,
    "\n  query ProjectPage($name: String!, $filter: ProjectTaskFilter, $first: Int!, $after: String) {\n    project(name: $name) {\n      id\n      name\n      title\n      owner\n      members\n      viewerCanEdit\n      createdBy\n      createdAt\n      tasks(filter: $filter, first: $first, after: $after) {\n        totalCount\n        pageInfo { hasNextPage endCursor }\n        nodes { ...TaskFields }\n      }\n    }\n  }\n": types.ProjectPageDocument,
    "\n  query ProjectMeetings($name: String!) {\n    project(name: $name) {\n      id\n      changesSinceLastMeeting { taskId title kind oldValue newValue }\n      meetings(first: 20) {\n        id\n        heldAt\n        notes\n        createdBy\n        changes { taskId title kind oldValue newValue }\n      }\n    }\n  }\n": types.ProjectMeetingsDocument,
    "\n  subscription ProjectTaskChanged($project: String) {\n    taskChanged(project: $project) {\n      project\n      taskId\n      deleted\n      task { ...TaskFields }\n    }\n  }\n": types.ProjectTaskChangedDocument,
    "\n  query ExportTasks($project: String!, $format: TaskTableFormat) {\n    exportTasks(project: $project, format: $format)\n  }\n": types.ExportTasksDocument,
    "\n  mutation ImportTasks($input: ImportTasksInput!) {\n    importTasks(input: $input) {\n      created\n      updated\n      unchanged\n      errors { row line column message }\n      tasks { ...TaskFields }\n    }\n  }\n": types.ImportTasksDocument,
    "\n  mutation CreateMeeting($input: CreateMeetingInput!) {\n    createMeeting(input: $input) { meeting { id heldAt } }\n  }\n": types.CreateMeetingDocument,
    "\n  query Projects {\n    projects {\n      id\n      name\n      title\n      owner\n      members\n      createdAt\n      tasks(first: 1) { totalCount }\n    }\n  }\n": types.ProjectsDocument,
    "\n  query TaskPage($id: ID!, $first: Int!) {\n    task(id: $id) {\n      ...TaskFields\n      viewerCanEdit\n      createdBy\n      createdAt\n      comments(first: $first) { id author body createdAt }\n      history(first: $first) { actor at field oldValue newValue }\n    }\n  }\n": types.TaskPageDocument,
    "\n  query TaskProject($name: String!) {\n    project(name: $name) { id name title owner members }\n  }\n": types.TaskProjectDocument,
    "\n  subscription TaskPageChanged($project: String) {\n    taskChanged(project: $project) { project taskId deleted task { ...TaskFields } }\n  }\n": types.TaskPageChangedDocument,
    "\n  mutation UpdateTask($input: UpdateTaskInput!) {\n    updateTask(input: $input) { task { ...TaskFields } }\n  }\n": types.UpdateTaskDocument,
    "\n  mutation AddTaskComment($input: AddTaskCommentInput!) {\n    addTaskComment(input: $input) { comment { id author body createdAt } task { id } }\n  }\n": types.AddTaskCommentDocument,
    "\n  fragment TaskFields on Task {\n    id\n    project\n    title\n    priority\n    assignee\n    status\n    comment\n    due\n    labels\n    links { kind target }\n    version\n    updatedBy\n    updatedAt\n  }\n": types.TaskFieldsFragmentDoc,
    "\n  query Me {\n    me {\n      username\n    }\n  }\n": types.MeDocument,
    "\n  subscription RereadTestChanged {\n    taskChanged(project: \"p\") {\n      taskId\n    }\n  }\n": types.RereadTestChangedDocument,
};

/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 *
 *
 * @example
 * ```ts
 * const query = graphql(`query GetUser($id: ID!) { user(id: $id) { name } }`);
 * ```
 *
 * The query argument is unknown!
 * Please regenerate the types.
 */
export function graphql(source: string): unknown;

/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  query Shell {\n    me {\n      username\n      displayName\n      email\n      admin\n      groups\n      user {\n        id\n        ref\n      }\n    }\n  }\n"): (typeof documents)["\n  query Shell {\n    me {\n      username\n      displayName\n      email\n      admin\n      groups\n      user {\n        id\n        ref\n      }\n    }\n  }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  query Audit($filter: AuditFilter, $first: Int!, $after: String) {\n    auditRecords(filter: $filter, first: $first, after: $after) {\n      totalCount\n      pageInfo { hasNextPage endCursor }\n      nodes { id at actor actorKind client action resource outcome code message requestId }\n    }\n  }\n"): (typeof documents)["\n  query Audit($filter: AuditFilter, $first: Int!, $after: String) {\n    auditRecords(filter: $filter, first: $first, after: $after) {\n      totalCount\n      pageInfo { hasNextPage endCursor }\n      nodes { id at actor actorKind client action resource outcome code message requestId }\n    }\n  }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  fragment EntityRow on Entity {\n    id\n    ref\n    kind\n    namespace\n    name\n    title\n    description\n    tags\n    updatedAt\n    ... on Component { type lifecycle ownerRef }\n    ... on API { type lifecycle ownerRef }\n    ... on System { ownerRef }\n    ... on Domain { ownerRef }\n    ... on Resource { type ownerRef }\n    ... on Group { type }\n  }\n"): (typeof documents)["\n  fragment EntityRow on Entity {\n    id\n    ref\n    kind\n    namespace\n    name\n    title\n    description\n    tags\n    updatedAt\n    ... on Component { type lifecycle ownerRef }\n    ... on API { type lifecycle ownerRef }\n    ... on System { ownerRef }\n    ... on Domain { ownerRef }\n    ... on Resource { type ownerRef }\n    ... on Group { type }\n  }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  query ExplorerResults($filter: EntityFilter, $orderBy: EntityOrder, $first: Int!, $after: String) {\n    entities(filter: $filter, orderBy: $orderBy, first: $first, after: $after) {\n      totalCount\n      pageInfo { hasNextPage endCursor }\n      nodes { ...EntityRow }\n    }\n  }\n"): (typeof documents)["\n  query ExplorerResults($filter: EntityFilter, $orderBy: EntityOrder, $first: Int!, $after: String) {\n    entities(filter: $filter, orderBy: $orderBy, first: $first, after: $after) {\n      totalCount\n      pageInfo { hasNextPage endCursor }\n      nodes { ...EntityRow }\n    }\n  }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  query ExplorerFacets($filter: EntityFilter, $fields: [FacetField!]!) {\n    facets(filter: $filter, fields: $fields, limit: 25) {\n      field\n      values { value count }\n    }\n  }\n"): (typeof documents)["\n  query ExplorerFacets($filter: EntityFilter, $fields: [FacetField!]!) {\n    facets(filter: $filter, fields: $fields, limit: 25) {\n      field\n      values { value count }\n    }\n  }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  query CatalogRunbookHits($text: String!) {\n    runbooks(filter: { text: $text }, first: 5) {\n      totalCount\n      nodes { id title }\n    }\n  }\n"): (typeof documents)["\n  query CatalogRunbookHits($text: String!) {\n    runbooks(filter: { text: $text }, first: 5) {\n      totalCount\n      nodes { id title }\n    }\n  }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  fragment DeployRequestPageFields on DeployRequest {\n    ...DeployRequestFields\n    repo\n    commitSha\n    pullRequestUrl\n    pipelineRun { id pipeline status }\n    transitions { actor client from to note at }\n    viewerCanApprove\n    viewerCanReject\n    viewerCanCancel\n  }\n"): (typeof documents)["\n  fragment DeployRequestPageFields on DeployRequest {\n    ...DeployRequestFields\n    repo\n    commitSha\n    pullRequestUrl\n    pipelineRun { id pipeline status }\n    transitions { actor client from to note at }\n    viewerCanApprove\n    viewerCanReject\n    viewerCanCancel\n  }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  query DeployRequestPage($id: ID!) {\n    deployRequest(id: $id) { ...DeployRequestPageFields }\n  }\n"): (typeof documents)["\n  query DeployRequestPage($id: ID!) {\n    deployRequest(id: $id) { ...DeployRequestPageFields }\n  }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  subscription DeployRequestChanged($id: ID!) {\n    deployRequestChanged(id: $id) { request { ...DeployRequestFields } transition { at to note } }\n  }\n"): (typeof documents)["\n  subscription DeployRequestChanged($id: ID!) {\n    deployRequestChanged(id: $id) { request { ...DeployRequestFields } transition { at to note } }\n  }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  mutation ApproveDeployRequest($input: DeployDecisionInput!) { approveDeployRequest(input: $input) { request { ...DeployRequestPageFields } } }\n"): (typeof documents)["\n  mutation ApproveDeployRequest($input: DeployDecisionInput!) { approveDeployRequest(input: $input) { request { ...DeployRequestPageFields } } }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  mutation RejectDeployRequest($input: DeployDecisionInput!) { rejectDeployRequest(input: $input) { request { ...DeployRequestPageFields } } }\n"): (typeof documents)["\n  mutation RejectDeployRequest($input: DeployDecisionInput!) { rejectDeployRequest(input: $input) { request { ...DeployRequestPageFields } } }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  mutation CancelDeployRequest($input: DeployDecisionInput!) { cancelDeployRequest(input: $input) { request { ...DeployRequestPageFields } } }\n"): (typeof documents)["\n  mutation CancelDeployRequest($input: DeployDecisionInput!) { cancelDeployRequest(input: $input) { request { ...DeployRequestPageFields } } }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  query ComponentDeployRequests($ref: String!) {\n    entity(ref: $ref) {\n      __typename\n      id\n      ... on Component {\n        viewerCanOperate\n        deployEnvironments { name requiresApproval }\n        deployRequests(first: 5) { totalCount nodes { ...DeployRequestFields } }\n      }\n    }\n  }\n"): (typeof documents)["\n  query ComponentDeployRequests($ref: String!) {\n    entity(ref: $ref) {\n      __typename\n      id\n      ... on Component {\n        viewerCanOperate\n        deployEnvironments { name requiresApproval }\n        deployRequests(first: 5) { totalCount nodes { ...DeployRequestFields } }\n      }\n    }\n  }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  subscription ComponentDeployRequestChanged($component: String!) {\n    deployRequestChanged(component: $component) { request { ...DeployRequestFields } transition { at to } }\n  }\n"): (typeof documents)["\n  subscription ComponentDeployRequestChanged($component: String!) {\n    deployRequestChanged(component: $component) { request { ...DeployRequestFields } transition { at to } }\n  }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  query DeployRequests($filter: DeployRequestFilter, $after: String) {\n    deployRequests(filter: $filter, first: 25, after: $after) {\n      totalCount\n      pageInfo { hasNextPage endCursor }\n      nodes { ...DeployRequestFields }\n    }\n  }\n"): (typeof documents)["\n  query DeployRequests($filter: DeployRequestFilter, $after: String) {\n    deployRequests(filter: $filter, first: 25, after: $after) {\n      totalCount\n      pageInfo { hasNextPage endCursor }\n      nodes { ...DeployRequestFields }\n    }\n  }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  subscription AnyDeployRequestChanged {\n    deployRequestChanged { request { ...DeployRequestFields } transition { at to } }\n  }\n"): (typeof documents)["\n  subscription AnyDeployRequestChanged {\n    deployRequestChanged { request { ...DeployRequestFields } transition { at to } }\n  }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  mutation RequestDeploy($input: RequestDeployInput!) {\n    requestDeploy(input: $input) { request { ...DeployRequestFields } }\n  }\n"): (typeof documents)["\n  mutation RequestDeploy($input: RequestDeployInput!) {\n    requestDeploy(input: $input) { request { ...DeployRequestFields } }\n  }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  fragment DeployRequestFields on DeployRequest {\n    id\n    number\n    component\n    environment\n    version\n    reason\n    requester\n    approver\n    client\n    state\n    waiting\n    outcome\n    createdAt\n    updatedAt\n    expiresAt\n  }\n"): (typeof documents)["\n  fragment DeployRequestFields on DeployRequest {\n    id\n    number\n    component\n    environment\n    version\n    reason\n    requester\n    approver\n    client\n    state\n    waiting\n    outcome\n    createdAt\n    updatedAt\n    expiresAt\n  }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  fragment DeploymentFields on Deployment {\n    instance\n    appNamespace\n    application\n    environment\n    cluster\n    namespace\n    syncStatus\n    health\n    revision\n    lastSyncedAt\n    stale\n    removed\n    operation { phase message startedAt finishedAt requestedBy }\n    canary {\n      strategy\n      currentStep\n      setWeight\n      actualWeight\n      phase\n      aborted\n      pausedReason\n      steps { kind weight pause }\n    }\n  }\n"): (typeof documents)["\n  fragment DeploymentFields on Deployment {\n    instance\n    appNamespace\n    application\n    environment\n    cluster\n    namespace\n    syncStatus\n    health\n    revision\n    lastSyncedAt\n    stale\n    removed\n    operation { phase message startedAt finishedAt requestedBy }\n    canary {\n      strategy\n      currentStep\n      setWeight\n      actualWeight\n      phase\n      aborted\n      pausedReason\n      steps { kind weight pause }\n    }\n  }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  fragment RolloutFields on Rollout {\n    id\n    instance\n    application\n    appNamespace\n    environment\n    revision\n    result\n    message\n    startedAt\n    finishedAt\n    requestedBy\n    initiatedBy\n    historyId\n    commit { author message }\n  }\n"): (typeof documents)["\n  fragment RolloutFields on Rollout {\n    id\n    instance\n    application\n    appNamespace\n    environment\n    revision\n    result\n    message\n    startedAt\n    finishedAt\n    requestedBy\n    initiatedBy\n    historyId\n    commit { author message }\n  }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  query ComponentDelivery($ref: String!) {\n    entity(ref: $ref) {\n      __typename\n      id\n      ... on Component {\n        viewerCanOperate\n        location { id }\n        deployments { ...DeploymentFields }\n        rollouts(first: 10) { totalCount nodes { ...RolloutFields } }\n      }\n    }\n  }\n"): (typeof documents)["\n  query ComponentDelivery($ref: String!) {\n    entity(ref: $ref) {\n      __typename\n      id\n      ... on Component {\n        viewerCanOperate\n        location { id }\n        deployments { ...DeploymentFields }\n        rollouts(first: 10) { totalCount nodes { ...RolloutFields } }\n      }\n    }\n  }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  subscription DeploymentChanged($component: String!) {\n    deploymentChanged(component: $component, current: true) { ...DeploymentFields }\n  }\n"): (typeof documents)["\n  subscription DeploymentChanged($component: String!) {\n    deploymentChanged(component: $component, current: true) { ...DeploymentFields }\n  }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  subscription RolloutChanged($component: String!) {\n    rolloutChanged(component: $component) { ...RolloutFields }\n  }\n"): (typeof documents)["\n  subscription RolloutChanged($component: String!) {\n    rolloutChanged(component: $component) { ...RolloutFields }\n  }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  mutation Sync($input: SyncDeploymentInput!) { syncDeployment(input: $input) { deployment { ...DeploymentFields } } }\n"): (typeof documents)["\n  mutation Sync($input: SyncDeploymentInput!) { syncDeployment(input: $input) { deployment { ...DeploymentFields } } }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  mutation RefreshDeployment($input: RefreshDeploymentInput!) { refreshDeployment(input: $input) { deployment { ...DeploymentFields } } }\n"): (typeof documents)["\n  mutation RefreshDeployment($input: RefreshDeploymentInput!) { refreshDeployment(input: $input) { deployment { ...DeploymentFields } } }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  mutation Terminate($input: DeploymentInput!) { terminateDeploymentOperation(input: $input) { deployment { ...DeploymentFields } } }\n"): (typeof documents)["\n  mutation Terminate($input: DeploymentInput!) { terminateDeploymentOperation(input: $input) { deployment { ...DeploymentFields } } }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  mutation Promote($input: PromoteDeploymentInput!) { promoteDeployment(input: $input) { deployment { instance appNamespace application } } }\n"): (typeof documents)["\n  mutation Promote($input: PromoteDeploymentInput!) { promoteDeployment(input: $input) { deployment { instance appNamespace application } } }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  mutation Abort($input: DeploymentInput!) { abortDeployment(input: $input) { deployment { instance appNamespace application } } }\n"): (typeof documents)["\n  mutation Abort($input: DeploymentInput!) { abortDeployment(input: $input) { deployment { instance appNamespace application } } }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  mutation Retry($input: DeploymentInput!) { retryDeployment(input: $input) { deployment { instance appNamespace application } } }\n"): (typeof documents)["\n  mutation Retry($input: DeploymentInput!) { retryDeployment(input: $input) { deployment { instance appNamespace application } } }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  mutation Rollback($input: RollbackDeploymentInput!) { rollbackDeployment(input: $input) { deployment { ...DeploymentFields } } }\n"): (typeof documents)["\n  mutation Rollback($input: RollbackDeploymentInput!) { rollbackDeployment(input: $input) { deployment { ...DeploymentFields } } }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  mutation RefreshEntityLocation($id: ID!) { refreshLocation(id: $id) { unchanged added updated removed location { id status } } }\n"): (typeof documents)["\n  mutation RefreshEntityLocation($id: ID!) { refreshLocation(id: $id) { unchanged added updated removed location { id status } } }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  query EntityDora($ref: String!, $b0: Time!, $b1: Time!, $b2: Time!, $b3: Time!, $b4: Time!, $b5: Time!, $b6: Time!, $b7: Time!, $b8: Time!) {\n    entity(ref: $ref) {\n      __typename\n      id\n      ... on Component {\n        dora { deployments deploymentsPerDay leadTimeSeconds changeFailureRate timeToRestoreSeconds }\n        w0: dora(since: $b0, until: $b1) { since deployments }\n        w1: dora(since: $b1, until: $b2) { since deployments }\n        w2: dora(since: $b2, until: $b3) { since deployments }\n        w3: dora(since: $b3, until: $b4) { since deployments }\n        w4: dora(since: $b4, until: $b5) { since deployments }\n        w5: dora(since: $b5, until: $b6) { since deployments }\n        w6: dora(since: $b6, until: $b7) { since deployments }\n        w7: dora(since: $b7, until: $b8) { since deployments }\n      }\n      ... on Group {\n        dora { deployments deploymentsPerDay leadTimeSeconds changeFailureRate timeToRestoreSeconds }\n        w0: dora(since: $b0, until: $b1) { since deployments }\n        w1: dora(since: $b1, until: $b2) { since deployments }\n        w2: dora(since: $b2, until: $b3) { since deployments }\n        w3: dora(since: $b3, until: $b4) { since deployments }\n        w4: dora(since: $b4, until: $b5) { since deployments }\n        w5: dora(since: $b5, until: $b6) { since deployments }\n        w6: dora(since: $b6, until: $b7) { since deployments }\n        w7: dora(since: $b7, until: $b8) { since deployments }\n      }\n    }\n  }\n"): (typeof documents)["\n  query EntityDora($ref: String!, $b0: Time!, $b1: Time!, $b2: Time!, $b3: Time!, $b4: Time!, $b5: Time!, $b6: Time!, $b7: Time!, $b8: Time!) {\n    entity(ref: $ref) {\n      __typename\n      id\n      ... on Component {\n        dora { deployments deploymentsPerDay leadTimeSeconds changeFailureRate timeToRestoreSeconds }\n        w0: dora(since: $b0, until: $b1) { since deployments }\n        w1: dora(since: $b1, until: $b2) { since deployments }\n        w2: dora(since: $b2, until: $b3) { since deployments }\n        w3: dora(since: $b3, until: $b4) { since deployments }\n        w4: dora(since: $b4, until: $b5) { since deployments }\n        w5: dora(since: $b5, until: $b6) { since deployments }\n        w6: dora(since: $b6, until: $b7) { since deployments }\n        w7: dora(since: $b7, until: $b8) { since deployments }\n      }\n      ... on Group {\n        dora { deployments deploymentsPerDay leadTimeSeconds changeFailureRate timeToRestoreSeconds }\n        w0: dora(since: $b0, until: $b1) { since deployments }\n        w1: dora(since: $b1, until: $b2) { since deployments }\n        w2: dora(since: $b2, until: $b3) { since deployments }\n        w3: dora(since: $b3, until: $b4) { since deployments }\n        w4: dora(since: $b4, until: $b5) { since deployments }\n        w5: dora(since: $b5, until: $b6) { since deployments }\n        w6: dora(since: $b6, until: $b7) { since deployments }\n        w7: dora(since: $b7, until: $b8) { since deployments }\n      }\n    }\n  }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  query EntityPage($ref: String!) {\n    entity(ref: $ref) {\n      __typename\n      id\n      ref\n      kind\n      namespace\n      name\n      title\n      description\n      tags\n      links { url title }\n      ... on Component {\n        type\n        lifecycle\n        ownerRef\n        systemRef\n        dependsOn(first: 50) { id ref kind name title }\n        dependents(first: 50) { id ref kind name title }\n        providesApis(first: 50) { id ref kind name title }\n        consumesApis(first: 50) { id ref kind name title }\n        subcomponents(first: 50) { id ref kind name title }\n      }\n      ... on API {\n        type\n        lifecycle\n        ownerRef\n        systemRef\n        definition\n        providers(first: 50) { id ref kind name title }\n        consumers(first: 50) { id ref kind name title }\n      }\n      ... on System {\n        sysType: type\n        ownerRef\n        domain { id ref }\n        components(first: 100) { id ref kind name title }\n        apis(first: 100) { id ref kind name title }\n        resources(first: 100) { id ref kind name title }\n      }\n      ... on Domain {\n        domType: type\n        ownerRef\n        parent { id ref }\n        subdomains(first: 100) { id ref kind name title }\n        systems(first: 100) { id ref kind name title }\n      }\n      ... on Resource {\n        type\n        ownerRef\n        systemRef\n        dependsOn(first: 50) { id ref kind name title }\n        dependents(first: 50) { id ref kind name title }\n      }\n      ... on Group {\n        type\n        profile { displayName email }\n        parent { id ref }\n        children(first: 100) { id ref kind name title }\n        members(first: 100) { id ref kind name title }\n        owned: ownedEntities(first: 50) { totalCount nodes { id ref kind name title } }\n      }\n      ... on User {\n        profile { displayName email }\n        memberOf(first: 100) { id ref kind name title }\n        userOwned: ownedEntities(first: 50) { totalCount nodes { id ref kind name title } }\n      }\n    }\n  }\n"): (typeof documents)["\n  query EntityPage($ref: String!) {\n    entity(ref: $ref) {\n      __typename\n      id\n      ref\n      kind\n      namespace\n      name\n      title\n      description\n      tags\n      links { url title }\n      ... on Component {\n        type\n        lifecycle\n        ownerRef\n        systemRef\n        dependsOn(first: 50) { id ref kind name title }\n        dependents(first: 50) { id ref kind name title }\n        providesApis(first: 50) { id ref kind name title }\n        consumesApis(first: 50) { id ref kind name title }\n        subcomponents(first: 50) { id ref kind name title }\n      }\n      ... on API {\n        type\n        lifecycle\n        ownerRef\n        systemRef\n        definition\n        providers(first: 50) { id ref kind name title }\n        consumers(first: 50) { id ref kind name title }\n      }\n      ... on System {\n        sysType: type\n        ownerRef\n        domain { id ref }\n        components(first: 100) { id ref kind name title }\n        apis(first: 100) { id ref kind name title }\n        resources(first: 100) { id ref kind name title }\n      }\n      ... on Domain {\n        domType: type\n        ownerRef\n        parent { id ref }\n        subdomains(first: 100) { id ref kind name title }\n        systems(first: 100) { id ref kind name title }\n      }\n      ... on Resource {\n        type\n        ownerRef\n        systemRef\n        dependsOn(first: 50) { id ref kind name title }\n        dependents(first: 50) { id ref kind name title }\n      }\n      ... on Group {\n        type\n        profile { displayName email }\n        parent { id ref }\n        children(first: 100) { id ref kind name title }\n        members(first: 100) { id ref kind name title }\n        owned: ownedEntities(first: 50) { totalCount nodes { id ref kind name title } }\n      }\n      ... on User {\n        profile { displayName email }\n        memberOf(first: 100) { id ref kind name title }\n        userOwned: ownedEntities(first: 50) { totalCount nodes { id ref kind name title } }\n      }\n    }\n  }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  query Home($owners: [String!]!) {\n    entities(filter: { owners: $owners, includeDescendantGroups: true, kinds: [\"Component\"] }, orderBy: { field: NAME }, first: 50) {\n      totalCount\n      nodes {\n        __typename\n        id\n        ref\n        name\n        title\n        description\n        ... on Component {\n          type\n          lifecycle\n          ownerRef\n          deployments { instance appNamespace application environment syncStatus health stale }\n        }\n      }\n    }\n  }\n"): (typeof documents)["\n  query Home($owners: [String!]!) {\n    entities(filter: { owners: $owners, includeDescendantGroups: true, kinds: [\"Component\"] }, orderBy: { field: NAME }, first: 50) {\n      totalCount\n      nodes {\n        __typename\n        id\n        ref\n        name\n        title\n        description\n        ... on Component {\n          type\n          lifecycle\n          ownerRef\n          deployments { instance appNamespace application environment syncStatus health stale }\n        }\n      }\n    }\n  }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  query HomeRollouts($components: [String!]!) {\n    rollouts(filter: { components: $components }, first: 10) {\n      totalCount\n      nodes { id instance appNamespace application environment revision result startedAt requestedBy initiatedBy }\n    }\n  }\n"): (typeof documents)["\n  query HomeRollouts($components: [String!]!) {\n    rollouts(filter: { components: $components }, first: 10) {\n      totalCount\n      nodes { id instance appNamespace application environment revision result startedAt requestedBy initiatedBy }\n    }\n  }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  fragment LocationErrorRow on LocationError {\n    source\n    document\n    line\n    field\n    entityRef\n    message\n  }\n"): (typeof documents)["\n  fragment LocationErrorRow on LocationError {\n    source\n    document\n    line\n    field\n    entityRef\n    message\n  }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  query Locations {\n    locations(first: 100) {\n      totalCount\n      nodes {\n        id\n        type\n        target\n        ref\n        path\n        status\n        message\n        entityCount\n        errorCount\n        refreshedAt\n        viewerCanRefresh\n        errors(first: 10) { ...LocationErrorRow }\n      }\n    }\n  }\n"): (typeof documents)["\n  query Locations {\n    locations(first: 100) {\n      totalCount\n      nodes {\n        id\n        type\n        target\n        ref\n        path\n        status\n        message\n        entityCount\n        errorCount\n        refreshedAt\n        viewerCanRefresh\n        errors(first: 10) { ...LocationErrorRow }\n      }\n    }\n  }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  mutation RegisterLocation($input: RegisterLocationInput!) {\n    registerLocation(input: $input) {\n      added\n      updated\n      location { id status entityCount errorCount }\n      errors { ...LocationErrorRow }\n    }\n  }\n"): (typeof documents)["\n  mutation RegisterLocation($input: RegisterLocationInput!) {\n    registerLocation(input: $input) {\n      added\n      updated\n      location { id status entityCount errorCount }\n      errors { ...LocationErrorRow }\n    }\n  }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  mutation RefreshLocationPage($id: ID!) {\n    refreshLocation(id: $id) { unchanged added updated removed location { id status entityCount errorCount refreshedAt } }\n  }\n"): (typeof documents)["\n  mutation RefreshLocationPage($id: ID!) {\n    refreshLocation(id: $id) { unchanged added updated removed location { id status entityCount errorCount refreshedAt } }\n  }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  mutation UnregisterLocation($id: ID!) { unregisterLocation(id: $id) { id removedEntities } }\n"): (typeof documents)["\n  mutation UnregisterLocation($id: ID!) { unregisterLocation(id: $id) { id removedEntities } }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  query ComponentPipelines($ref: String!) {\n    entity(ref: $ref) {\n      __typename\n      id\n      ... on Component {\n        viewerCanOperate\n        pipelines {\n          ...PipelineFields\n          runs(first: 5) { totalCount nodes { ...PipelineRunFields } }\n        }\n      }\n    }\n  }\n"): (typeof documents)["\n  query ComponentPipelines($ref: String!) {\n    entity(ref: $ref) {\n      __typename\n      id\n      ... on Component {\n        viewerCanOperate\n        pipelines {\n          ...PipelineFields\n          runs(first: 5) { totalCount nodes { ...PipelineRunFields } }\n        }\n      }\n    }\n  }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  subscription ComponentPipelineRunChanged($component: String!) {\n    pipelineRunChanged(component: $component) { ...PipelineRunFields }\n  }\n"): (typeof documents)["\n  subscription ComponentPipelineRunChanged($component: String!) {\n    pipelineRunChanged(component: $component) { ...PipelineRunFields }\n  }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  mutation TriggerPipeline($input: TriggerPipelineInput!) {\n    triggerPipeline(input: $input) { run { ...PipelineRunFields } }\n  }\n"): (typeof documents)["\n  mutation TriggerPipeline($input: TriggerPipelineInput!) {\n    triggerPipeline(input: $input) { run { ...PipelineRunFields } }\n  }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  query PipelineRunPage($id: ID!) {\n    pipelineRun(id: $id) {\n      ...PipelineRunFields\n      retryOf { id status createdAt }\n    }\n  }\n"): (typeof documents)["\n  query PipelineRunPage($id: ID!) {\n    pipelineRun(id: $id) {\n      ...PipelineRunFields\n      retryOf { id status createdAt }\n    }\n  }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  query PipelineRunComponent($ref: String!) {\n    entity(ref: $ref) {\n      __typename\n      id\n      title\n      ... on Component { viewerCanOperate }\n    }\n  }\n"): (typeof documents)["\n  query PipelineRunComponent($ref: String!) {\n    entity(ref: $ref) {\n      __typename\n      id\n      title\n      ... on Component { viewerCanOperate }\n    }\n  }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  subscription PipelineRunChanged($id: ID!) {\n    pipelineRunChanged(id: $id) { ...PipelineRunFields }\n  }\n"): (typeof documents)["\n  subscription PipelineRunChanged($id: ID!) {\n    pipelineRunChanged(id: $id) { ...PipelineRunFields }\n  }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  mutation CancelPipelineRun($input: PipelineRunInput!) { cancelPipelineRun(input: $input) { run { ...PipelineRunFields } } }\n"): (typeof documents)["\n  mutation CancelPipelineRun($input: PipelineRunInput!) { cancelPipelineRun(input: $input) { run { ...PipelineRunFields } } }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  mutation RetryPipelineRun($input: PipelineRunInput!) { retryPipelineRun(input: $input) { run { ...PipelineRunFields } } }\n"): (typeof documents)["\n  mutation RetryPipelineRun($input: PipelineRunInput!) { retryPipelineRun(input: $input) { run { ...PipelineRunFields } } }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  query PipelineRuns($filter: PipelineRunFilter, $after: String) {\n    pipelineRuns(filter: $filter, first: 25, after: $after) {\n      totalCount\n      pageInfo { hasNextPage endCursor }\n      nodes { ...PipelineRunFields }\n    }\n  }\n"): (typeof documents)["\n  query PipelineRuns($filter: PipelineRunFilter, $after: String) {\n    pipelineRuns(filter: $filter, first: 25, after: $after) {\n      totalCount\n      pageInfo { hasNextPage endCursor }\n      nodes { ...PipelineRunFields }\n    }\n  }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  subscription AnyPipelineRunChanged($component: String, $pipeline: String) {\n    pipelineRunChanged(component: $component, pipeline: $pipeline) { ...PipelineRunFields }\n  }\n"): (typeof documents)["\n  subscription AnyPipelineRunChanged($component: String, $pipeline: String) {\n    pipelineRunChanged(component: $component, pipeline: $pipeline) { ...PipelineRunFields }\n  }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  fragment PipelineRunFields on PipelineRun {\n    id\n    component\n    pipeline\n    provider\n    providerRunId\n    url\n    attempt\n    ref\n    commitSha\n    parameters { name value }\n    triggeredBy\n    client\n    status\n    message\n    stages { name status startedAt finishedAt durationSeconds logUrl }\n    artifacts { name image version }\n    retryOfId\n    createdAt\n    startedAt\n    finishedAt\n    updatedAt\n  }\n"): (typeof documents)["\n  fragment PipelineRunFields on PipelineRun {\n    id\n    component\n    pipeline\n    provider\n    providerRunId\n    url\n    attempt\n    ref\n    commitSha\n    parameters { name value }\n    triggeredBy\n    client\n    status\n    message\n    stages { name status startedAt finishedAt durationSeconds logUrl }\n    artifacts { name image version }\n    retryOfId\n    createdAt\n    startedAt\n    finishedAt\n    updatedAt\n  }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  fragment PipelineFields on Pipeline {\n    component\n    name\n    provider\n    repository\n    workflow\n    defaultRef\n    stages\n    parameters { name type description options default required }\n  }\n"): (typeof documents)["\n  fragment PipelineFields on Pipeline {\n    component\n    name\n    provider\n    repository\n    workflow\n    defaultRef\n    stages\n    parameters { name type description options default required }\n  }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  query RunbookPage($id: ID!) {\n    runbook(id: $id) {\n      id\n      title\n      kind\n      url\n      markdown\n      html\n      version\n      versions(first: 100) { version title author message createdAt }\n      linkedRefs\n      linkedEntities {\n        __typename\n        id\n        ref\n        title\n        name\n        ... on Component { viewerCanOperate }\n      }\n      linkStatus { state httpStatus message checkedAt }\n      createdBy\n      createdAt\n      updatedBy\n      updatedAt\n    }\n  }\n"): (typeof documents)["\n  query RunbookPage($id: ID!) {\n    runbook(id: $id) {\n      id\n      title\n      kind\n      url\n      markdown\n      html\n      version\n      versions(first: 100) { version title author message createdAt }\n      linkedRefs\n      linkedEntities {\n        __typename\n        id\n        ref\n        title\n        name\n        ... on Component { viewerCanOperate }\n      }\n      linkStatus { state httpStatus message checkedAt }\n      createdBy\n      createdAt\n      updatedBy\n      updatedAt\n    }\n  }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  query RunbookDiff($id: ID!, $from: Int!, $to: Int!) {\n    runbook(id: $id) { id diff(from: $from, to: $to) }\n  }\n"): (typeof documents)["\n  query RunbookDiff($id: ID!, $from: Int!, $to: Int!) {\n    runbook(id: $id) { id diff(from: $from, to: $to) }\n  }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  mutation UpdateRunbook($input: UpdateRunbookInput!) {\n    updateRunbook(input: $input) { runbook { id title markdown html url version updatedAt updatedBy } }\n  }\n"): (typeof documents)["\n  mutation UpdateRunbook($input: UpdateRunbookInput!) {\n    updateRunbook(input: $input) { runbook { id title markdown html url version updatedAt updatedBy } }\n  }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  query Runbooks($filter: RunbookFilter, $after: String) {\n    runbooks(filter: $filter, first: 50, after: $after) {\n      totalCount\n      pageInfo { hasNextPage endCursor }\n      nodes { id title kind version linkedRefs updatedAt updatedBy }\n    }\n  }\n"): (typeof documents)["\n  query Runbooks($filter: RunbookFilter, $after: String) {\n    runbooks(filter: $filter, first: 50, after: $after) {\n      totalCount\n      pageInfo { hasNextPage endCursor }\n      nodes { id title kind version linkedRefs updatedAt updatedBy }\n    }\n  }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  query ComponentRunbooks($ref: String!) {\n    entity(ref: $ref) {\n      __typename\n      id\n      ... on Component {\n        runbooks { id title kind version }\n        runbookLinks { ...CatalogLinkFields }\n        dashboards { ...CatalogLinkFields }\n        grafana { dashboardSelector alertLabelSelector }\n      }\n    }\n  }\n"): (typeof documents)["\n  query ComponentRunbooks($ref: String!) {\n    entity(ref: $ref) {\n      __typename\n      id\n      ... on Component {\n        runbooks { id title kind version }\n        runbookLinks { ...CatalogLinkFields }\n        dashboards { ...CatalogLinkFields }\n        grafana { dashboardSelector alertLabelSelector }\n      }\n    }\n  }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  fragment CatalogLinkFields on CatalogLink {\n    kind\n    title\n    url\n    template\n    source\n    missing\n    status { state httpStatus message }\n  }\n"): (typeof documents)["\n  fragment CatalogLinkFields on CatalogLink {\n    kind\n    title\n    url\n    template\n    source\n    missing\n    status { state httpStatus message }\n  }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  query SlackLinks {\n    me { slackLinks { teamId slackUser createdAt } }\n  }\n"): (typeof documents)["\n  query SlackLinks {\n    me { slackLinks { teamId slackUser createdAt } }\n  }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  query SlackLinkPreview($token: String!) {\n    slackLinkPreview(token: $token) { teamId slackUser handle name email expiresAt }\n  }\n"): (typeof documents)["\n  query SlackLinkPreview($token: String!) {\n    slackLinkPreview(token: $token) { teamId slackUser handle name email expiresAt }\n  }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  mutation LinkSlackUser($input: LinkSlackUserInput!) { linkSlackUser(input: $input) { teamId slackUser createdAt } }\n"): (typeof documents)["\n  mutation LinkSlackUser($input: LinkSlackUserInput!) { linkSlackUser(input: $input) { teamId slackUser createdAt } }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  mutation UnlinkSlackUser($input: UnlinkSlackUserInput!) { unlinkSlackUser(input: $input) { teamId slackUser } }\n"): (typeof documents)["\n  mutation UnlinkSlackUser($input: UnlinkSlackUserInput!) { unlinkSlackUser(input: $input) { teamId slackUser } }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  query ProjectPage($name: String!, $filter: ProjectTaskFilter, $first: Int!, $after: String) {\n    project(name: $name) {\n      id\n      name\n      title\n      owner\n      members\n      viewerCanEdit\n      createdBy\n      createdAt\n      tasks(filter: $filter, first: $first, after: $after) {\n        totalCount\n        pageInfo { hasNextPage endCursor }\n        nodes { ...TaskFields }\n      }\n    }\n  }\n"): (typeof documents)["\n  query ProjectPage($name: String!, $filter: ProjectTaskFilter, $first: Int!, $after: String) {\n    project(name: $name) {\n      id\n      name\n      title\n      owner\n      members\n      viewerCanEdit\n      createdBy\n      createdAt\n      tasks(filter: $filter, first: $first, after: $after) {\n        totalCount\n        pageInfo { hasNextPage endCursor }\n        nodes { ...TaskFields }\n      }\n    }\n  }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  query ProjectMeetings($name: String!) {\n    project(name: $name) {\n      id\n      changesSinceLastMeeting { taskId title kind oldValue newValue }\n      meetings(first: 20) {\n        id\n        heldAt\n        notes\n        createdBy\n        changes { taskId title kind oldValue newValue }\n      }\n    }\n  }\n"): (typeof documents)["\n  query ProjectMeetings($name: String!) {\n    project(name: $name) {\n      id\n      changesSinceLastMeeting { taskId title kind oldValue newValue }\n      meetings(first: 20) {\n        id\n        heldAt\n        notes\n        createdBy\n        changes { taskId title kind oldValue newValue }\n      }\n    }\n  }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  subscription ProjectTaskChanged($project: String) {\n    taskChanged(project: $project) {\n      project\n      taskId\n      deleted\n      task { ...TaskFields }\n    }\n  }\n"): (typeof documents)["\n  subscription ProjectTaskChanged($project: String) {\n    taskChanged(project: $project) {\n      project\n      taskId\n      deleted\n      task { ...TaskFields }\n    }\n  }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  query ExportTasks($project: String!, $format: TaskTableFormat) {\n    exportTasks(project: $project, format: $format)\n  }\n"): (typeof documents)["\n  query ExportTasks($project: String!, $format: TaskTableFormat) {\n    exportTasks(project: $project, format: $format)\n  }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  mutation ImportTasks($input: ImportTasksInput!) {\n    importTasks(input: $input) {\n      created\n      updated\n      unchanged\n      errors { row line column message }\n      tasks { ...TaskFields }\n    }\n  }\n"): (typeof documents)["\n  mutation ImportTasks($input: ImportTasksInput!) {\n    importTasks(input: $input) {\n      created\n      updated\n      unchanged\n      errors { row line column message }\n      tasks { ...TaskFields }\n    }\n  }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  mutation CreateMeeting($input: CreateMeetingInput!) {\n    createMeeting(input: $input) { meeting { id heldAt } }\n  }\n"): (typeof documents)["\n  mutation CreateMeeting($input: CreateMeetingInput!) {\n    createMeeting(input: $input) { meeting { id heldAt } }\n  }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  query Projects {\n    projects {\n      id\n      name\n      title\n      owner\n      members\n      createdAt\n      tasks(first: 1) { totalCount }\n    }\n  }\n"): (typeof documents)["\n  query Projects {\n    projects {\n      id\n      name\n      title\n      owner\n      members\n      createdAt\n      tasks(first: 1) { totalCount }\n    }\n  }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  query TaskPage($id: ID!, $first: Int!) {\n    task(id: $id) {\n      ...TaskFields\n      viewerCanEdit\n      createdBy\n      createdAt\n      comments(first: $first) { id author body createdAt }\n      history(first: $first) { actor at field oldValue newValue }\n    }\n  }\n"): (typeof documents)["\n  query TaskPage($id: ID!, $first: Int!) {\n    task(id: $id) {\n      ...TaskFields\n      viewerCanEdit\n      createdBy\n      createdAt\n      comments(first: $first) { id author body createdAt }\n      history(first: $first) { actor at field oldValue newValue }\n    }\n  }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  query TaskProject($name: String!) {\n    project(name: $name) { id name title owner members }\n  }\n"): (typeof documents)["\n  query TaskProject($name: String!) {\n    project(name: $name) { id name title owner members }\n  }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  subscription TaskPageChanged($project: String) {\n    taskChanged(project: $project) { project taskId deleted task { ...TaskFields } }\n  }\n"): (typeof documents)["\n  subscription TaskPageChanged($project: String) {\n    taskChanged(project: $project) { project taskId deleted task { ...TaskFields } }\n  }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  mutation UpdateTask($input: UpdateTaskInput!) {\n    updateTask(input: $input) { task { ...TaskFields } }\n  }\n"): (typeof documents)["\n  mutation UpdateTask($input: UpdateTaskInput!) {\n    updateTask(input: $input) { task { ...TaskFields } }\n  }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  mutation AddTaskComment($input: AddTaskCommentInput!) {\n    addTaskComment(input: $input) { comment { id author body createdAt } task { id } }\n  }\n"): (typeof documents)["\n  mutation AddTaskComment($input: AddTaskCommentInput!) {\n    addTaskComment(input: $input) { comment { id author body createdAt } task { id } }\n  }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  fragment TaskFields on Task {\n    id\n    project\n    title\n    priority\n    assignee\n    status\n    comment\n    due\n    labels\n    links { kind target }\n    version\n    updatedBy\n    updatedAt\n  }\n"): (typeof documents)["\n  fragment TaskFields on Task {\n    id\n    project\n    title\n    priority\n    assignee\n    status\n    comment\n    due\n    labels\n    links { kind target }\n    version\n    updatedBy\n    updatedAt\n  }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  query Me {\n    me {\n      username\n    }\n  }\n"): (typeof documents)["\n  query Me {\n    me {\n      username\n    }\n  }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  subscription RereadTestChanged {\n    taskChanged(project: \"p\") {\n      taskId\n    }\n  }\n"): (typeof documents)["\n  subscription RereadTestChanged {\n    taskChanged(project: \"p\") {\n      taskId\n    }\n  }\n"];

export function graphql(source: string) {
  return (documents as any)[source] ?? {};
}

export type DocumentType<TDocumentNode extends DocumentNode<any, any>> = TDocumentNode extends DocumentNode<  infer TType,  any>  ? TType  : never;