package graph

// gqlgen writes the executor (*.generated.go, one per schema file) and model/models_gen.go from
// schema/*.graphqls; genpatch then makes list marshalling sequential (see marshalSlice) and routes
// entities through the rendered-entity cache (see fragments.go), facets through a one-pass writer
// (see facets.go), and entities and relations of plain fields through another (see plain.go).
//go:generate go tool gqlgen generate --config gqlgen.yml
//go:generate sh -c "go run ./internal/genpatch *.generated.go"
