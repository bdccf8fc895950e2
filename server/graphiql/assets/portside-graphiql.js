// Starts GraphiQL on Portside's /graphql. The page runs with the session cookie, so its requests
// carry the CSRF header Portside asks of cookie-authenticated changes; subscriptions go over a
// WebSocket to the same endpoint (graphql-transport-ws).
(function () {
  var url = location.protocol + '//' + location.host + '/graphql';
  var subscriptionUrl = (location.protocol === 'https:' ? 'wss:' : 'ws:') + '//' + location.host + '/graphql';
  var fetcher = GraphiQL.createFetcher({ url: url, subscriptionUrl: subscriptionUrl, headers: { 'X-Portside-CSRF': '1' } });
  var root = ReactDOM.createRoot(document.getElementById('graphiql'));
  root.render(React.createElement(GraphiQL, { fetcher: fetcher, defaultEditorToolsVisibility: true }));
})();
