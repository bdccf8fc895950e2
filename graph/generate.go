package graph

// gqlgen writes the executor (*.generated.go, one per schema file) and model/models_gen.go from
// schema/*.graphqls; seqlists then makes list marshalling sequential (see marshalSlice).
//go:generate go tool gqlgen generate --config gqlgen.yml
//go:generate sh -c "go run ./internal/seqlists *.generated.go"
