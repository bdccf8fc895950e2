package gitlab

import (
	"bytes"
	"context"
	"errors"
	"net/http"
	"strconv"

	gl "gitlab.com/gitlab-org/api/client-go/v2"

	"github.com/portside-dev/portside/errs"
	"github.com/portside-dev/portside/pipelines"
)

// maxOutputJobs bounds the jobs asked for the output file of one pipeline.
const maxOutputJobs = 5

// output reads what a successful pipeline produced: a job lists portside-output (image=…@sha256:…
// and version=… lines) under artifacts:paths, and Portside reads that one file from the newest
// successful job that kept artifacts (at most maxOutputJobs asked, at most MaxOutputBytes
// read). A pipeline without it produced nothing Portside knows of; reading fails (and the
// follower reads the pipeline again) only when GitLab cannot be asked.
func (p *Provider) output(ctx context.Context, decl pipelines.Declaration, jobs []*gl.Job) ([]pipelines.Artifact, error) {
	asked := 0
	for _, j := range newestFirst(jobs) {
		if j.Status != "success" || !hasArchive(j) {
			continue
		}
		if asked++; asked > maxOutputJobs {
			break
		}
		if err := p.wait(); err != nil {
			return nil, err
		}
		var pid string
		switch v := project(decl).(type) {
		case int64:
			pid = strconv.FormatInt(v, 10)
		case string:
			pid = gl.PathEscape(v)
		}
		req, err := p.client.NewRequest(http.MethodGet, "projects/"+pid+"/jobs/"+strconv.FormatInt(j.ID, 10)+"/artifacts/"+pipelines.OutputName,
			nil, []gl.RequestOptionFunc{gl.WithContext(ctx)})
		if err != nil {
			return nil, errs.Wrap(errs.Internal, err, "gitlab: the request for %s", pipelines.OutputName)
		}
		var file bounded
		_, err = p.client.Do(req, &file)
		if errors.Is(err, errTooLarge) {
			return []pipelines.Artifact{}, nil // not the two lines it should be: nothing is read of it
		}
		switch err := p.check(err, "read "+pipelines.OutputName+" of job "+strconv.FormatInt(j.ID, 10)); {
		case errs.Is(err, errs.NotFound):
			continue // this job kept other files
		case err != nil:
			return nil, err
		}
		return pipelines.ParseOutput(bytes.NewReader(file.b)), nil
	}
	return []pipelines.Artifact{}, nil
}

// hasArchive reports whether a job kept an artifacts archive (where artifacts:paths go).
func hasArchive(j *gl.Job) bool {
	if j.ArtifactsFile.Filename != "" {
		return true
	}
	for _, a := range j.Artifacts {
		if a.FileType == "archive" {
			return true
		}
	}
	return false
}

// newestFirst orders jobs by ID, highest first: the job that ran last wrote the output last.
func newestFirst(jobs []*gl.Job) []*gl.Job {
	out := append([]*gl.Job(nil), jobs...)
	for i := 1; i < len(out); i++ {
		for k := i; k > 0 && out[k].ID > out[k-1].ID; k-- {
			out[k], out[k-1] = out[k-1], out[k]
		}
	}
	return out
}

var errTooLarge = errors.New("larger than " + strconv.Itoa(pipelines.MaxOutputBytes) + " bytes")

// bounded keeps what client-go copies into it, refusing more than MaxOutputBytes.
type bounded struct{ b []byte }

func (w *bounded) Write(p []byte) (int, error) {
	if len(w.b)+len(p) > pipelines.MaxOutputBytes {
		return 0, errTooLarge
	}
	w.b = append(w.b, p...)
	return len(p), nil
}
