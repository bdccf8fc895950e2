package graph

// gqlgen writes exec_gen.go and model/models_gen.go from schema/*.graphqls; seqlists then makes
// list marshalling sequential (see marshalSlice).
//go:generate go tool gqlgen generate --config gqlgen.yml
//go:generate go run ./internal/seqlists exec_gen.go
