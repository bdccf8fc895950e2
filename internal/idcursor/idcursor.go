// Package idcursor holds the opaque cursors of lists ordered by a row ID (tasks, pipeline runs,
// runbooks, audit records): "<list>:<id>" in unpadded URL-safe base64.
//
// Decode accepts exactly what Encode writes, so that one position has one cursor: "task:+2",
// "task:02" or a padded encoding are refused, not read as task 2.
package idcursor

import (
	"encoding/base64"
	"strconv"

	"github.com/portside-dev/portside/errs"
)

// Encode is the cursor of row id in list.
func Encode(list string, id int64) string {
	return base64.RawURLEncoding.EncodeToString([]byte(list + ":" + strconv.FormatInt(id, 10)))
}

// Decode reads a cursor Encode wrote for list; anything else is INVALID naming the field after.
func Decode(list, cursor string) (int64, error) {
	b, err := base64.RawURLEncoding.Strict().DecodeString(cursor)
	prefix := list + ":"
	if err == nil && len(b) > len(prefix) && string(b[:len(prefix)]) == prefix {
		digits := string(b[len(prefix):])
		if id, err := strconv.ParseInt(digits, 10, 64); err == nil && id > 0 && strconv.FormatInt(id, 10) == digits {
			return id, nil
		}
	}
	return 0, errs.InvalidField("after", "is not a cursor of this list")
}
