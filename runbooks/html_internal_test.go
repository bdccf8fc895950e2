package runbooks

import (
	"context"
	"strings"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/portside-dev/portside/auth/principal"
	"github.com/portside-dev/portside/catalog/backstage"
	"github.com/portside-dev/portside/errs"
	"github.com/portside-dev/portside/store/storetest"
)

// Readers of one version at once share one rendering; a refusal that does not depend on the
// machine (too many cells) is kept like HTML, one that does (too slow) is tried again.
func TestAVersionIsRenderedOnceAtATimeAndItsLastingRefusalKept(t *testing.T) {
	s := NewService(storetest.SQLite(t), Options{})
	var calls atomic.Int32
	release := make(chan struct{})
	s.render = func(src string) (string, error) {
		calls.Add(1)
		<-release // every reader has asked before the first rendering ends
		return RenderMarkdown(src)
	}
	padded := strings.Repeat("|", 2001) + "\n" + strings.Repeat("|-", 2000) + "|\n" + strings.Repeat("|\n", 2000)
	stored := Runbook{ID: 42, Version: 3, Kind: Markdown, Markdown: padded}
	var wg sync.WaitGroup
	got := make([]error, 8)
	for i := range got {
		wg.Go(func() { _, got[i] = s.HTML(stored) })
	}
	// Readers that ask while the rendering runs wait for it; any asking after it find it kept:
	// one rendering either way.
	close(release)
	wg.Wait()
	for _, err := range got {
		if errs.CodeOf(err) != errs.Invalid || !strings.Contains(err.Error(), "runbook 42 version 3 cannot be shown") {
			t.Errorf("HTML of the stored version: %v", err)
		}
	}
	if _, err := s.HTML(stored); err == nil || calls.Load() != 1 {
		t.Errorf("renderings of a version read 9 times: %d (and then %v), want 1, the refusal kept", calls.Load(), err)
	}

	slow := Runbook{ID: 43, Version: 1, Kind: Markdown, Markdown: "x"}
	calls.Store(0)
	s.render = func(string) (string, error) { calls.Add(1); return "", slowError(RenderTime) }
	for range 2 {
		if _, err := s.HTML(slow); errs.CodeOf(err) != errs.Invalid || !strings.Contains(err.Error(), "takes more than 2s to render") {
			t.Fatalf("HTML of a slow version: %v", err)
		}
	}
	if calls.Load() != 2 {
		t.Errorf("a version too slow to render was rendered %d times in two reads, want 2 (not kept)", calls.Load())
	}
}

// The rendering a write makes to check its Markdown is the new version's HTML: its first read
// renders nothing again.
func TestAWrittenVersionIsReadWithoutRenderingAgain(t *testing.T) {
	s := NewService(storetest.SQLite(t), Options{Catalog: noEntities{}})
	var calls atomic.Int32
	s.render = func(src string) (string, error) { calls.Add(1); return RenderMarkdown(src) }
	admin := principal.With(context.Background(), &principal.Principal{Username: "admin", Kind: principal.KindToken, Client: principal.ClientAPI, Admin: true})
	rb, err := s.Create(admin, CreateInput{Title: "Restart", Kind: Markdown, Markdown: "# Restart\n", Message: "first"})
	if err != nil {
		t.Fatal(err)
	}
	if html, err := s.HTML(rb); err != nil || !strings.Contains(html, "Restart</h1>") || calls.Load() != 1 {
		t.Fatalf("HTML after Create: %q, %v, %d renderings; want the write's one", html, err, calls.Load())
	}
	md := "# Restart the pods\n"
	rb, err = s.Update(admin, UpdateInput{ID: rb.ID, BaseVersion: rb.Version, Markdown: &md, Message: "more"})
	if err != nil {
		t.Fatal(err)
	}
	if html, err := s.HTML(rb); err != nil || !strings.Contains(html, "Restart the pods</h1>") || calls.Load() != 2 {
		t.Fatalf("HTML after Update: %q, %v, %d renderings; want the two writes' only", html, err, calls.Load())
	}
}

// noEntities is a catalog without entities: a runbook linked to nothing needs no more.
type noEntities struct{}

func (noEntities) EntitiesByRef(context.Context, []backstage.Ref) (map[backstage.Ref]*backstage.Entity, error) {
	return nil, nil
}
func (noEntities) Owns(context.Context, *principal.Principal, string) (bool, error) {
	return false, nil
}
