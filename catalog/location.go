package catalog

import (
	"context"
	"io"
	"time"
)

// LocationType says how a location is read.
type LocationType string

// The location types.
const (
	LocationFile     LocationType = "file"     // a file, a directory or a glob on the server's disk
	LocationURL      LocationType = "url"      // an http(s) URL of one catalog file
	LocationGit      LocationType = "git"      // a git repository (URL, ref, path glob), cloned with git
	LocationEmbedded LocationType = "embedded" // a catalog built into the binary (the demo)
)

// LocationTypes lists the location types a user can register.
var LocationTypes = []LocationType{LocationFile, LocationURL, LocationGit, LocationEmbedded}

// LocationStatus summarises the last refresh of a location.
type LocationStatus string

// The location statuses.
const (
	StatusPending LocationStatus = "pending" // registered, never refreshed
	StatusOK      LocationStatus = "ok"      // read and applied without errors
	StatusInvalid LocationStatus = "invalid" // read and applied, but some documents have errors
	StatusFailed  LocationStatus = "failed"  // could not be read; the entities from the last good read stay
)

// LocationSpec names a location: what a user registers.
type LocationSpec struct {
	Type   LocationType
	Target string // path or glob (file), URL (url, git), name (embedded)
	Ref    string // git: branch, tag or commit; "" = the remote's default branch
	Path   string // git: path or glob of catalog files in the repository; "" = catalog-info.yaml
}

// Location is a registered location and the outcome of its last refresh.
type Location struct {
	ID int64
	LocationSpec
	Status        LocationStatus
	Message       string // why the last refresh failed, when it did
	Revision      string // what was last applied: a commit, an ETag, a content hash
	EntityCount   int
	ErrorCount    int
	RefreshedAt   *time.Time // last attempt
	SucceededAt   *time.Time // last successful read
	NextRefreshAt *time.Time
	CreatedAt     time.Time
	UpdatedAt     time.Time
}

// Reader reads one type of location. Implementations live in package catalog/sources, so the
// catalog itself never touches the network, git or the disk.
type Reader interface {
	// Check validates and normalises a spec before it is registered (e.g. makes a path absolute).
	Check(spec LocationSpec) (LocationSpec, error)
	// Open reads the location. since is the revision last applied; a reader that can tell cheaply
	// that nothing changed (same commit, HTTP 304) returns a snapshot whose Unchanged is true.
	Open(ctx context.Context, spec LocationSpec, since string) (Snapshot, error)
}

// Snapshot is a location as read at one moment.
type Snapshot interface {
	// Revision identifies what was read (a commit SHA, an ETag); "" when the reader has none, in
	// which case ingestion uses a hash of the content.
	Revision() string
	// Unchanged reports that the files the location selects (Files) are known to be as they were
	// at the revision given to Open.
	Unchanged() bool
	// Sealed reports that the revision fixes every file the snapshot can read, not just the
	// selected ones (a git commit, a catalog built into the binary). When an unchanged snapshot is
	// not sealed, files read through placeholders and Location entities may still have changed.
	Sealed() bool
	// Files lists the catalog files the location's target selects, in a stable order.
	Files() []string
	// ReadFile returns a file's content. Name is as returned by Files, Resolve or Glob.
	ReadFile(ctx context.Context, name string) ([]byte, error)
	// Resolve turns a target written in file base (a placeholder, a Location entity's target) into
	// a name ReadFile understands, refusing targets that leave the location.
	Resolve(base, target string) (string, error)
	// Glob expands a resolved target that may hold a pattern; a plain name expands to itself.
	Glob(pattern string) ([]string, error)
	// Close releases what the snapshot holds (temporary checkouts, connections).
	Close() error
}

// LocalReader is implemented by snapshots that can tell that every read they serve (the
// location's files, placeholder and Location targets) stays on this machine: files on disk, a git
// checkout, a catalog built into the binary. An apply on SQLite writes while such a snapshot is
// parsed (see Service.writesWhileParsing).
type LocalReader interface {
	// ReadsLocally reports that no read of the snapshot leaves the machine.
	ReadsLocally() bool
}

// FileOpener is implemented by snapshots that can hand a file over as a stream rather than whole,
// so that ingestion parses a large file as it reads it. The reader enforces the same size bound
// as ReadFile, failing once it is passed.
type FileOpener interface {
	// OpenFile opens a file for reading. Name is as returned by Files, Resolve or Glob.
	OpenFile(ctx context.Context, name string) (io.ReadCloser, error)
}
