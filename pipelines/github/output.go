package github

import (
	"archive/zip"
	"bytes"
	"context"
	"io"
	"net/http"
	"path"
	"strconv"

	gh "github.com/google/go-github/v75/github"

	"github.com/portside-dev/portside/errs"
	"github.com/portside-dev/portside/pipelines"
)

// maxArchiveBytes bounds the zip of the portside-output artifact: it holds two short lines.
const maxArchiveBytes = 1 << 20

// output reads what a successful run produced: the workflow uploads a file named portside-output
// (image=…@sha256:… and version=… lines) as an artifact of the same name, with
// actions/upload-artifact. A run without it produced nothing Portside knows of. Reading fails
// (and the follower reads the run again) only when GitHub cannot be asked: a finished run's
// artifacts are not read a second time.
func (p *Provider) output(ctx context.Context, owner, repo string, runID int64) ([]pipelines.Artifact, error) {
	if err := p.wait(); err != nil {
		return nil, err
	}
	list, _, err := p.client.Actions.ListWorkflowRunArtifacts(ctx, owner, repo, runID, &gh.ListOptions{PerPage: 100})
	if err := p.check(err, "list the artifacts of run "+strconv.FormatInt(runID, 10)); errs.Is(err, errs.NotFound) {
		return []pipelines.Artifact{}, nil // a token without actions:read on artifacts sees none
	} else if err != nil {
		return nil, err
	}
	var found *gh.Artifact
	for _, a := range list.Artifacts {
		if a.GetName() == pipelines.OutputName && !a.GetExpired() {
			found = a
			break
		}
	}
	if found == nil {
		return []pipelines.Artifact{}, nil
	}
	if found.GetSizeInBytes() > maxArchiveBytes {
		return []pipelines.Artifact{}, nil // not the two lines it should be: nothing is read of it
	}
	if err := p.wait(); err != nil {
		return nil, err
	}
	where, _, err := p.client.Actions.DownloadArtifact(ctx, owner, repo, found.GetID(), 0)
	if err := p.check(err, "download artifact "+pipelines.OutputName+" of run "+strconv.FormatInt(runID, 10)); err != nil {
		return nil, err
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, where.String(), nil)
	if err != nil {
		return nil, errs.Wrap(errs.Unavailable, err, "GitHub gave an unusable address for artifact %s", pipelines.OutputName)
	}
	resp, err := p.blobs.Do(req)
	if err != nil {
		return nil, errs.Wrap(errs.Unavailable, err, "the archive of artifact %s could not be fetched; try again later", pipelines.OutputName)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return nil, errs.E(errs.Unavailable, "the archive of artifact %s answered HTTP %d", pipelines.OutputName, resp.StatusCode)
	}
	archive, err := io.ReadAll(io.LimitReader(resp.Body, maxArchiveBytes+1))
	if err != nil {
		return nil, errs.Wrap(errs.Unavailable, err, "the archive of artifact %s could not be read", pipelines.OutputName)
	}
	return readArchive(archive), nil
}

// readArchive finds portside-output in the artifact's zip (at its root or in a folder). A
// damaged or oversized archive gives no artifact rather than a run that can never be read.
func readArchive(archive []byte) []pipelines.Artifact {
	if len(archive) > maxArchiveBytes {
		return []pipelines.Artifact{}
	}
	zr, err := zip.NewReader(bytes.NewReader(archive), int64(len(archive)))
	if err != nil {
		return []pipelines.Artifact{}
	}
	for _, f := range zr.File {
		if path.Base(f.Name) != pipelines.OutputName || f.FileInfo().IsDir() {
			continue
		}
		rc, err := f.Open()
		if err != nil {
			return []pipelines.Artifact{}
		}
		defer rc.Close()
		return pipelines.ParseOutput(rc)
	}
	return []pipelines.Artifact{}
}
