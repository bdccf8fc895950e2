// Package errs is Portside's one error type. Every error that crosses a package boundary carries a
// Code, and HTTP, GraphQL and Slack map the same codes the same way, so a caller learns what kind of
// failure it met without parsing messages.
package errs

import (
	"errors"
	"fmt"
	"net/http"
	"strings"
)

// Code classifies an error for callers; it is what GraphQL puts in extensions.code.
type Code string

// The codes. Keep this list short: a code exists when callers act differently on it.
const (
	Invalid         Code = "INVALID"         // the caller's input is wrong; retrying it unchanged fails again
	NotFound        Code = "NOT_FOUND"       // the named thing does not exist (or the caller may not know it does)
	Conflict        Code = "CONFLICT"        // the request clashes with current state (duplicate, concurrent change)
	Unauthenticated Code = "UNAUTHENTICATED" // no or bad credentials
	Forbidden       Code = "FORBIDDEN"       // authenticated, but not allowed
	Unavailable     Code = "UNAVAILABLE"     // a dependency is down or busy; retrying later may succeed
	Internal        Code = "INTERNAL"        // a bug or an unexpected failure; details are logged, never shown
)

// Error is an error with a Code and a message meant for the caller.
type Error struct {
	Code Code
	// Message is safe to show to the caller. For Internal errors it is logged, not shown.
	Message string
	// Field names the input field at fault, when there is one (for INVALID).
	Field string
	// Err is the underlying cause, if any.
	Err error
}

// Error is the message, then the cause's own words, unless the message already ends with them
// (a message that quotes its cause, as a location that cannot be read does, said it twice).
func (e *Error) Error() string {
	switch {
	case e.Err != nil && e.Message != "":
		cause := e.Err.Error()
		if strings.HasSuffix(e.Message, cause) {
			return e.Message
		}
		return e.Message + ": " + cause
	case e.Err != nil:
		return e.Err.Error()
	default:
		return e.Message
	}
}

func (e *Error) Unwrap() error { return e.Err }

// E returns an error with the given code and a formatted message.
func E(code Code, format string, args ...any) *Error {
	return &Error{Code: code, Message: fmt.Sprintf(format, args...)}
}

// Wrap returns err with a code and a message in front of it. A nil err gives nil.
func Wrap(code Code, err error, format string, args ...any) error {
	if err == nil {
		return nil
	}
	return &Error{Code: code, Message: fmt.Sprintf(format, args...), Err: err}
}

// InvalidField reports bad input in a named field.
func InvalidField(field, format string, args ...any) *Error {
	return &Error{Code: Invalid, Field: field, Message: field + ": " + fmt.Sprintf(format, args...)}
}

// NotFoundField reports that what a named field refers to does not exist.
func NotFoundField(field, format string, args ...any) *Error {
	return &Error{Code: NotFound, Field: field, Message: field + ": " + fmt.Sprintf(format, args...)}
}

// CodeOf returns the code of the first *Error in err's chain, or Internal when there is none.
func CodeOf(err error) Code {
	if err == nil {
		return ""
	}
	var e *Error
	if errors.As(err, &e) {
		return e.Code
	}
	return Internal
}

// Is reports whether err carries the given code.
func Is(err error, code Code) bool { return err != nil && CodeOf(err) == code }

// PublicMessage is what a caller may see of err: the message of its coded error (not its causes, which
// may hold SQL, paths or addresses), or a generic text for internal errors, whose details stay in the logs.
func PublicMessage(err error) string {
	var e *Error
	if !errors.As(err, &e) || e.Code == Internal {
		return "internal error"
	}
	if e.Message == "" {
		return string(e.Code)
	}
	return e.Message
}

// FieldOf returns the input field an error names, if any.
func FieldOf(err error) string {
	var e *Error
	if errors.As(err, &e) {
		return e.Field
	}
	return ""
}

// HTTPStatus is the HTTP status for err's code: the one table HTTP endpoints share.
func HTTPStatus(err error) int {
	switch CodeOf(err) {
	case Invalid:
		return http.StatusBadRequest
	case NotFound:
		return http.StatusNotFound
	case Conflict:
		return http.StatusConflict
	case Unauthenticated:
		return http.StatusUnauthorized
	case Forbidden:
		return http.StatusForbidden
	case Unavailable:
		return http.StatusServiceUnavailable
	default:
		return http.StatusInternalServerError
	}
}
