package demo

import (
	"bytes"
	"io"
	"io/fs"
	"strings"
	"time"
)

// ManifestsPlaceholder stands in the demo catalog's portside.dev/deploy annotations for the
// manifest repository, which only exists once serve --demo has created it.
const ManifestsPlaceholder = "{{demo-manifests}}"

// WithManifests returns the demo catalog with repo (a path or URL git clone accepts) where the
// deploy annotations name the manifest repository.
func WithManifests(repo string) fs.FS {
	return substituted{FS: files, old: ManifestsPlaceholder, new: repo}
}

// substituted is a file system whose YAML files read with old replaced by new.
type substituted struct {
	fs.FS
	old, new string
}

func (s substituted) Open(name string) (fs.File, error) {
	f, err := s.FS.Open(name)
	if err != nil || !strings.HasSuffix(name, ".yaml") {
		return f, err
	}
	defer f.Close()
	info, err := f.Stat()
	if err != nil || info.IsDir() {
		return s.FS.Open(name)
	}
	data, err := io.ReadAll(f)
	if err != nil {
		return nil, err
	}
	data = bytes.ReplaceAll(data, []byte(s.old), []byte(s.new))
	return &memFile{Reader: bytes.NewReader(data), info: memInfo{name: info.Name(), size: int64(len(data)), mode: info.Mode()}}, nil
}

// memFile is a file read from memory.
type memFile struct {
	*bytes.Reader
	info memInfo
}

func (f *memFile) Stat() (fs.FileInfo, error) { return f.info, nil }
func (f *memFile) Close() error               { return nil }

type memInfo struct {
	name string
	size int64
	mode fs.FileMode
}

func (i memInfo) Name() string       { return i.name }
func (i memInfo) Size() int64        { return i.size }
func (i memInfo) Mode() fs.FileMode  { return i.mode }
func (i memInfo) ModTime() time.Time { return time.Time{} }
func (i memInfo) IsDir() bool        { return false }
func (i memInfo) Sys() any           { return nil }
