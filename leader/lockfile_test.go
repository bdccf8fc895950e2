package leader_test

import (
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/portside-dev/portside/errs"
	"github.com/portside-dev/portside/leader"
)

func TestASQLiteFileIsClaimedByOneServe(t *testing.T) {
	db := filepath.Join(t.TempDir(), "portside.db")
	first, err := leader.LockFile(db)
	if err != nil {
		t.Fatalf("the first claim: %v", err)
	}
	if first.Path() != db+"-serve.lock" {
		t.Errorf("the claim is at %s, want beside the database", first.Path())
	}

	// flock is per open file: a second claim in this process is refused as another process's is.
	_, err = leader.LockFile(db)
	if !errs.Is(err, errs.Conflict) {
		t.Fatalf("a second claim = %v, want CONFLICT", err)
	}
	for _, want := range []string{db, "already served", "pid " + strconv.Itoa(os.Getpid()), "single-process", "PostgreSQL"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("the refusal does not say %q: %v", want, err)
		}
	}

	// The same file through a symbolic link is the same database.
	if err := os.WriteFile(db, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	link := filepath.Join(t.TempDir(), "link.db")
	if err := os.Symlink(db, link); err != nil {
		t.Fatal(err)
	}
	if _, err := leader.LockFile(link); !errs.Is(err, errs.Conflict) {
		t.Fatalf("a claim through a symbolic link = %v, want CONFLICT", err)
	}

	// Another file is another database.
	other, err := leader.LockFile(filepath.Join(t.TempDir(), "other.db"))
	if err != nil {
		t.Fatalf("a claim of another file: %v", err)
	}
	_ = other.Close()

	// Released, the file may be claimed again (as after the first serve stopped or died).
	if err := first.Close(); err != nil {
		t.Fatal(err)
	}
	again, err := leader.LockFile(db)
	if err != nil {
		t.Fatalf("a claim after the first was released: %v", err)
	}
	_ = again.Close()
}
