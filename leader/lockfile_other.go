//go:build !unix

package leader

import (
	"errors"
	"os"
)

var errLocked = errors.New("locked")

// tryLock claims nothing where flock is missing: the refusal of a second serve is a Unix feature
// (Portside's images and CI are Linux).
func tryLock(*os.File) error { return nil }

func unlock(*os.File) error { return nil }
