// Package jsonerr says what is wrong with a JSON document that did not decode, in words a sender
// can act on: which field holds the wrong type, or where the syntax breaks.
package jsonerr

import (
	"encoding/json"
	"errors"
	"fmt"
)

// Describe is what encoding/json's error err says of the document, without Go's type names.
func Describe(err error) string {
	var te *json.UnmarshalTypeError
	var se *json.SyntaxError
	switch {
	case errors.As(err, &te) && te.Field != "":
		return fmt.Sprintf("%s is %s, not %s", te.Field, article(te.Value), kind(te.Type.Kind().String()))
	case errors.As(err, &te):
		return fmt.Sprintf("the document is %s, not an object", article(te.Value))
	case errors.As(err, &se):
		return fmt.Sprintf("it is not JSON (at byte %d: %s)", se.Offset, se.Error())
	default:
		return "it is not JSON"
	}
}

// article names a JSON value kind as encoding/json reports it ("string", "number 1.5").
func article(v string) string {
	switch {
	case v == "":
		return "a value"
	case v[0] == 'a' || v[0] == 'o':
		return "an " + v
	default:
		return "a " + v
	}
}

// kind names a Go kind as JSON would.
func kind(k string) string {
	switch k {
	case "int", "int8", "int16", "int32", "int64", "uint", "uint8", "uint16", "uint32", "uint64":
		return "a whole number"
	case "float32", "float64":
		return "a number"
	case "string":
		return "a string"
	case "bool":
		return "true or false"
	case "slice", "array":
		return "an array"
	case "map", "struct", "ptr":
		return "an object"
	default:
		return "a " + k
	}
}
