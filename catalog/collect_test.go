package catalog_test

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/portside-dev/portside/catalog"
	"github.com/portside-dev/portside/catalog/backstage"
	"github.com/portside-dev/portside/catalog/sources"
)

// manyFiles writes a location of n files of three components each, pulled in by a Location
// entity, with a duplicate and an invalid document on the way.
func manyFiles(t *testing.T, n int) string {
	t.Helper()
	dir := t.TempDir()
	f := &fixture{t: t, dir: dir}
	f.write("catalog-info.yaml", "apiVersion: backstage.io/v1alpha1\nkind: Location\nmetadata: {name: shards}\nspec: {targets: [./shards/*.yaml]}\n")
	for i := range n {
		var docs []string
		for j := range 3 {
			docs = append(docs, component(fmt.Sprintf("c-%03d-%d", i, j)))
		}
		switch i {
		case 7:
			docs = append(docs, component("c-001-1")) // defined twice
		case 11:
			docs = append(docs, "apiVersion: backstage.io/v1alpha1\nkind: Component\nmetadata: {name: Not Valid}\nspec: {type: service, owner: team-a, lifecycle: production}\n")
		}
		f.write(fmt.Sprintf("shards/%03d.yaml", i), strings.Join(docs, "---\n"))
	}
	return dir
}

func component(name string) string {
	return "apiVersion: backstage.io/v1alpha1\nkind: Component\nmetadata: {name: " + name + "}\nspec: {type: service, owner: team-a, lifecycle: production}\n"
}

func openDir(t *testing.T, dir string) catalog.Snapshot {
	t.Helper()
	r := &sources.Files{}
	spec, err := r.Check(catalog.LocationSpec{Type: catalog.LocationFile, Target: filepath.Join(dir, "catalog-info.yaml")})
	if err != nil {
		t.Fatal(err)
	}
	snap, err := r.Open(context.Background(), spec, "")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = snap.Close() })
	return snap
}

// A location's entities can be handed over a few files at a time (an apply on PostgreSQL writes
// them as they come): the pieces, in order, are what collecting it whole gives, with the same
// errors, and no piece holds the whole location.
func TestStreamedCollectionIsTheCollectionInPieces(t *testing.T) {
	dir := manyFiles(t, 120)
	whole, err := catalog.Collect(context.Background(), openDir(t, dir))
	if err != nil {
		t.Fatal(err)
	}
	var pieces [][]string
	var streamed []string
	var bodies []string
	rest, err := catalog.CollectStream(context.Background(), openDir(t, dir), 0, func(es []*backstage.Entity, bs []string) error {
		var refs []string
		for i, e := range es {
			refs = append(refs, e.Ref.String()+" "+e.Source+" "+e.Hash)
			if bs[i] == "" {
				t.Errorf("%s came without its document", e.Ref)
			}
		}
		pieces = append(pieces, refs)
		streamed = append(streamed, refs...)
		bodies = append(bodies, bs...)
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	var want []string
	for _, e := range whole.Entities {
		want = append(want, e.Ref.String()+" "+e.Source+" "+e.Hash)
	}
	if len(want) != 1+120*3 { // the Location entity and every component once
		t.Fatalf("collected %d entities, want %d", len(want), 1+120*3)
	}
	if d := cmp.Diff(want, streamed); d != "" {
		t.Errorf("streamed entities differ from the whole collection (-whole +streamed):\n%s", d)
	}
	if len(pieces) < 3 {
		t.Errorf("%d pieces: the location was handed over (nearly) whole", len(pieces))
	}
	for i, p := range pieces {
		if len(p) > len(want)/2 {
			t.Errorf("piece %d holds %d of %d entities", i, len(p), len(want))
		}
	}
	if rest.Entities != nil {
		t.Errorf("the streamed collection kept %d entities", len(rest.Entities))
	}
	if d := cmp.Diff(whole.Errors, rest.Errors); d != "" || whole.ErrorCount != rest.ErrorCount || whole.ErrorCount != 2 {
		t.Errorf("errors differ (%d, %d; want 2 each):\n%s", whole.ErrorCount, rest.ErrorCount, d)
	}
	if whole.Files != rest.Files || rest.Files != 121 {
		t.Errorf("files read: whole %d, streamed %d, want 121", whole.Files, rest.Files)
	}
}

// A failure of the receiver stops the collection at once and is returned as it is.
func TestStreamedCollectionStopsAtTheReceiversError(t *testing.T) {
	dir := manyFiles(t, 120)
	stop := errors.New("the database refused")
	calls := 0
	_, err := catalog.CollectStream(context.Background(), openDir(t, dir), 0, func([]*backstage.Entity, []string) error {
		calls++
		return stop
	})
	if !errors.Is(err, stop) || calls != 1 {
		t.Fatalf("got %v after %d calls, want the receiver's error after 1", err, calls)
	}
}
