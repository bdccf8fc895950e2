package graph_test

import (
	"testing"

	"github.com/portside-dev/portside/store/storetest"
)

// introspectionQuery has the shape GraphiQL sends to load the schema: type references nest nine
// levels deep under __schema.types.fields.args.
const introspectionQuery = `query IntrospectionQuery {
  __schema {
    queryType { name } mutationType { name } subscriptionType { name }
    types { ...FullType }
    directives { name description locations args { ...InputValue } }
  }
}
fragment FullType on __Type {
  kind name description
  fields(includeDeprecated: true) { name description args { ...InputValue } type { ...TypeRef } isDeprecated deprecationReason }
  inputFields { ...InputValue }
  interfaces { ...TypeRef }
  enumValues(includeDeprecated: true) { name description isDeprecated deprecationReason }
  possibleTypes { ...TypeRef }
}
fragment InputValue on __InputValue { name description type { ...TypeRef } defaultValue }
fragment TypeRef on __Type {
  kind name
  ofType { kind name ofType { kind name ofType { kind name ofType { kind name ofType { kind name
    ofType { kind name ofType { kind name ofType { kind name ofType { kind name } } } } } } } } }
}`

// The depth limit protects resolvers; GraphiQL's schema query is deeper than any data query needs
// to be and must still work at the default limit.
func TestGraphiQLIntrospectionPassesTheDepthLimit(t *testing.T) {
	a := newAPI(t, storetest.SQLite(t), 1000)
	var resp struct {
		Schema map[string]any `json:"__schema"`
	}
	a.query(&resp, introspectionQuery)
	types, _ := resp.Schema["types"].([]any)
	if q, _ := resp.Schema["queryType"].(map[string]any); q["name"] != "Query" || len(types) < 20 {
		t.Errorf("introspection: query type %v, %d types", resp.Schema["queryType"], len(types))
	}
}
