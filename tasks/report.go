package tasks

import (
	"context"
	"fmt"
	"html"
	"math"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/yuin/goldmark"
	"github.com/yuin/goldmark/extension"

	"github.com/portside-dev/portside/errs"
	"github.com/portside-dev/portside/pipelines"
	"github.com/portside-dev/portside/rollouts"
)

// DeliveryFigures measures what a group owns over a period, for the meeting report. serve wires
// it over the rollouts and pipelines services; nil leaves the figures out of reports.
type DeliveryFigures interface {
	Figures(ctx context.Context, owner string, since, until time.Time) (Figures, error)
}

// Figures are a team's delivery figures for a period: DORA's four from rollouts, and the pipeline
// runs when its components have any.
type Figures struct {
	DORA rollouts.Metrics
	// Pipelines is nil when no component of the team ran a pipeline in the period.
	Pipelines *pipelines.RunStats
}

// Delivery is DeliveryFigures over the services that hold the facts (what serve wires).
type Delivery struct {
	DORA interface {
		ScopeDORA(ctx context.Context, ref string, since, until *time.Time) (rollouts.Metrics, error)
	}
	Runs interface {
		RunStats(ctx context.Context, components []string, since, until time.Time) (pipelines.RunStats, error)
	}
	Components interface {
		ComponentsIn(ctx context.Context, field, ref string, keys []string) (map[string]map[string]string, error)
	}
}

// Figures reads DORA's figures for the group (and the groups below it) and its components'
// pipeline runs.
func (d Delivery) Figures(ctx context.Context, owner string, since, until time.Time) (Figures, error) {
	m, err := d.DORA.ScopeDORA(ctx, owner, &since, &until)
	if err != nil {
		return Figures{}, err
	}
	f := Figures{DORA: m}
	comps, err := d.Components.ComponentsIn(ctx, "owner", owner, []string{pipelines.AnnotationPipelines})
	if err != nil {
		return Figures{}, err
	}
	refs := make([]string, 0, len(comps))
	for r := range comps {
		refs = append(refs, r)
	}
	sort.Strings(refs)
	st, err := d.Runs.RunStats(ctx, refs, since, until)
	if err != nil {
		return Figures{}, err
	}
	if st.Runs > 0 {
		f.Pipelines = &st
	}
	return f, nil
}

// Report is a project's status-meeting report for the period since its last meeting.
type Report struct {
	Project     Project
	LastMeeting *Meeting // nil before the first meeting
	// Since and Until bound the period: the last meeting (or 14 days back before any) to now.
	Since, Until time.Time
	// Figures are nil when Portside has no delivery figures to give (none wired).
	Figures *Figures
	Rows    []ReportRow
	Changes []MeetingChange
	// Blockers are the tasks Blocked now; NextSteps the open ones, High priority and due first.
	Blockers, NextSteps []ReportRow
}

// ReportRow is one task in the report, with what changed about it since the last meeting.
type ReportRow struct {
	Task     Task
	Assignee string // as the table names the User
	// Changed lists the kinds of change since the last meeting (NEW, STATUS, BLOCKER, ...).
	Changed []ChangeKind
	// Was holds the old value of each changed column, by kind.
	Was map[ChangeKind]string
}

// reportDefaultPeriod is the period of a project that has had no meeting yet.
const reportDefaultPeriod = 14 * 24 * time.Hour

// Report gathers a project's report for the period since its last meeting, for anyone signed in.
func (s *Service) Report(ctx context.Context, project string) (Report, error) {
	if err := signedIn(ctx); err != nil {
		return Report{}, err
	}
	proj, err := s.recs.projectByName(ctx, project)
	if err != nil {
		return Report{}, err
	}
	rep := Report{Project: proj, Until: s.now().UTC()}
	rep.Since = rep.Until.Add(-reportDefaultPeriod)
	last, err := s.recs.meetings(ctx, proj, 1)
	if err != nil {
		return Report{}, err
	}
	if len(last) == 1 {
		rep.LastMeeting = &last[0]
		rep.Since = last[0].HeldAt.UTC()
	}
	if rep.Changes, err = s.ChangesSinceLastMeeting(ctx, project); err != nil {
		return Report{}, err
	}
	list, err := s.recs.tasksOfProject(ctx, proj.ID)
	if err != nil {
		return Report{}, err
	}
	labels := map[string]string{"": ""}
	byTask := map[int64]*ReportRow{}
	for _, t := range list {
		if _, done := labels[t.Assignee]; !done {
			if labels[t.Assignee], err = s.assigneeLabel(ctx, t.Assignee); err != nil {
				return Report{}, err
			}
		}
		rep.Rows = append(rep.Rows, ReportRow{Task: t, Assignee: labels[t.Assignee], Was: map[ChangeKind]string{}})
	}
	for i := range rep.Rows {
		byTask[rep.Rows[i].Task.ID] = &rep.Rows[i]
	}
	for _, c := range rep.Changes {
		r := byTask[c.TaskID]
		if r == nil {
			continue
		}
		r.Changed = append(r.Changed, c.Kind)
		r.Was[c.Kind] = c.Old
		if c.Kind == ChangeAssignee && c.Old != "" {
			if r.Was[c.Kind], err = s.assigneeLabel(ctx, c.Old); err != nil { // as the table names people
				return Report{}, err
			}
		}
	}
	for _, r := range rep.Rows {
		switch r.Task.Status {
		case Blocked:
			rep.Blockers = append(rep.Blockers, r)
		case Completed:
		default:
			rep.NextSteps = append(rep.NextSteps, r)
		}
	}
	sort.SliceStable(rep.NextSteps, func(i, j int) bool {
		a, b := rep.NextSteps[i].Task, rep.NextSteps[j].Task
		if pa, pb := priorityRank(a.Priority), priorityRank(b.Priority); pa != pb {
			return pa < pb
		}
		if (a.Due == "") != (b.Due == "") {
			return a.Due != ""
		}
		return a.Due < b.Due
	})
	if s.figures != nil && proj.Owner != "" {
		// The latest meeting may be recorded a little ahead (maxMeetingAhead): its period is empty.
		since := rep.Since
		if since.After(rep.Until) {
			since = rep.Until
		}
		f, err := s.figures.Figures(ctx, proj.Owner, since, rep.Until)
		if err != nil {
			return Report{}, errs.Wrap(errs.CodeOf(err), err, "the delivery figures of %s: %s", proj.Owner, errs.PublicMessage(err))
		}
		rep.Figures = &f
	}
	return rep, nil
}

func priorityRank(p Priority) int {
	switch p {
	case High:
		return 0
	case Medium:
		return 1
	default:
		return 2
	}
}

// Markdown renders the report: the figures, the task table with the changes since the last
// meeting in bold (and what they were), the blockers and the next steps.
func (r Report) Markdown() string {
	var b strings.Builder
	title := r.Project.Title
	if title == "" {
		title = r.Project.Name
	}
	fmt.Fprintf(&b, "# %s: status report\n\n", mdText(title))
	since := "the last 14 days (no meeting yet)"
	if r.LastMeeting != nil {
		since = "the meeting of " + r.LastMeeting.HeldAt.UTC().Format("2006-01-02 15:04 MST")
	}
	fmt.Fprintf(&b, "Period: %s to %s, since %s.\n\n", r.Since.Format("2006-01-02"), r.Until.Format("2006-01-02"), since)

	b.WriteString("## Delivery\n\n")
	switch {
	case r.Figures == nil && r.Project.Owner == "":
		b.WriteString("The project has no owning group: no delivery figures.\n\n")
	case r.Figures == nil:
		b.WriteString("Delivery figures are not available on this Portside.\n\n")
	default:
		m := r.Figures.DORA
		fmt.Fprintf(&b, "Figures for the components %s owns.\n\n", mdText(r.Project.Owner))
		b.WriteString("| Figure | Value |\n|---|---|\n")
		fmt.Fprintf(&b, "| Deploys | %d (%.2f a day) |\n", m.Deployments, m.DeploymentsPerDay())
		cfr := "no changes"
		if m.Changes > 0 {
			cfr = fmt.Sprintf("%s (%d of %d)", percent(m.FailedChanges, m.Changes), m.FailedChanges, m.Changes)
		}
		fmt.Fprintf(&b, "| Change failure rate | %s |\n", cfr)
		fmt.Fprintf(&b, "| Lead time for changes (median) | %s |\n", duration(m.LeadTime))
		fmt.Fprintf(&b, "| Time to restore (median) | %s |\n", duration(m.TimeToRestore))
		if p := r.Figures.Pipelines; p != nil {
			fmt.Fprintf(&b, "| Pipeline success rate | %s (%d of %d runs) |\n", percent(p.Succeeded, p.Runs), p.Succeeded, p.Runs)
			fmt.Fprintf(&b, "| Pipeline duration (median, successful runs) | %s |\n", duration(p.MedianDuration))
		}
		b.WriteString("\n")
	}

	b.WriteString("## Tasks\n\n")
	if len(r.Rows) == 0 {
		b.WriteString("No tasks.\n\n")
	} else {
		b.WriteString("Changes since the last meeting are in bold.\n\n")
		b.WriteString("| Task | Priority | Assignee | Status | Comments / Issues |\n|---|---|---|---|---|\n")
		for _, row := range r.Rows {
			t := row.Task
			new := row.changed(ChangeNew)
			fmt.Fprintf(&b, "| %s | %s | %s | %s | %s |\n",
				row.cell(t.Title, new, ""),
				row.cell(t.Priority.Label(), new || row.changed(ChangePriority), labelOf(row.Was[ChangePriority], priorityLabel)),
				row.cell(row.Assignee, new || row.changed(ChangeAssignee), row.Was[ChangeAssignee]),
				row.cell(t.Status.Label(), new || row.changed(ChangeStatus) || row.changed(ChangeClosed), labelOf(firstOf(row.Was[ChangeStatus], row.Was[ChangeClosed]), statusLabel)),
				row.cell(t.Comment, new || row.changed(ChangeBlocker), ""))
		}
		b.WriteString("\n")
	}
	var removed []MeetingChange
	for _, c := range r.Changes {
		if c.Kind == ChangeRemoved {
			removed = append(removed, c)
		}
	}
	if len(removed) > 0 {
		b.WriteString("Removed since the last meeting: ")
		for i, c := range removed {
			if i > 0 {
				b.WriteString(", ")
			}
			b.WriteString(mdText(c.Title))
		}
		b.WriteString(".\n\n")
	}

	b.WriteString("## Blockers\n\n")
	if len(r.Blockers) == 0 {
		b.WriteString("None.\n\n")
	}
	for _, row := range r.Blockers {
		fmt.Fprintf(&b, "- **%s** (%s): %s\n", mdText(row.Task.Title), mdText(orNobody(row.Assignee)), mdText(orDash(row.Task.Comment)))
	}
	if len(r.Blockers) > 0 {
		b.WriteString("\n")
	}
	b.WriteString("## Next steps\n\n")
	if len(r.NextSteps) == 0 {
		b.WriteString("None: every task is completed or blocked.\n")
	}
	for _, row := range r.NextSteps {
		due := ""
		if row.Task.Due != "" {
			due = ", due " + row.Task.Due
		}
		fmt.Fprintf(&b, "- %s: %s (%s, %s%s)\n", row.Task.Priority.Label(), mdText(row.Task.Title), mdText(orNobody(row.Assignee)), row.Task.Status.Label(), due)
	}
	return b.String()
}

// HTML renders the Markdown report as a standalone HTML page. Every text from tasks is escaped
// for Markdown (mdText) and goldmark runs without raw HTML, so nothing a task says becomes markup.
func (r Report) HTML() (string, error) {
	md := goldmark.New(goldmark.WithExtensions(extension.Table))
	var body strings.Builder
	if err := md.Convert([]byte(r.Markdown()), &body); err != nil {
		return "", errs.Wrap(errs.Internal, err, "render the report")
	}
	title := r.Project.Title
	if title == "" {
		title = r.Project.Name
	}
	return "<!doctype html>\n<html lang=\"en\"><head><meta charset=\"utf-8\"><title>" + html.EscapeString(title) +
		": status report</title></head><body>\n" + body.String() + "</body></html>\n", nil
}

func (row ReportRow) changed(k ChangeKind) bool {
	for _, c := range row.Changed {
		if c == k {
			return true
		}
	}
	return false
}

// cell is a table cell: bold when it changed, with what it was.
func (row ReportRow) cell(text string, changed bool, was string) string {
	text = mdText(text)
	if !changed || text == "" {
		return text
	}
	if was != "" {
		return "**" + text + "** (was " + mdText(was) + ")"
	}
	return "**" + text + "**"
}

func priorityLabel(s string) string { return Priority(s).Label() }
func statusLabel(s string) string   { return Status(s).Label() }

// labelOf shows a stored value as the table does ("" stays "").
func labelOf(v string, label func(string) string) string {
	if v == "" {
		return ""
	}
	if l := label(v); l != "" {
		return l
	}
	return v
}

func firstOf(a, b string) string {
	if a != "" {
		return a
	}
	return b
}

func orNobody(s string) string {
	if s == "" {
		return "nobody"
	}
	return s
}

func orDash(s string) string {
	if s == "" {
		return "—"
	}
	return s
}

// percent is n of total as a percentage with at most one decimal ("12.5%", "90%").
func percent(n, total int) string {
	return strconv.FormatFloat(math.Round(1000*float64(n)/float64(total))/10, 'f', -1, 64) + "%"
}

func duration(d *time.Duration) string {
	if d == nil {
		return "no data"
	}
	return d.Round(time.Minute).String()
}

// mdText escapes what Markdown would read as markup (and the table's pipes), so a task's text is
// shown as written and never becomes a link, an image or HTML.
func mdText(s string) string {
	var b strings.Builder
	for _, r := range strings.Join(strings.Fields(s), " ") {
		switch r {
		case '\\', '`', '*', '_', '{', '}', '[', ']', '(', ')', '#', '+', '-', '.', '!', '|', '<', '>', '&', '~':
			b.WriteRune('\\')
		}
		b.WriteRune(r)
	}
	return b.String()
}

// ReportFormat is how a report is rendered.
type ReportFormat string

// The report formats.
const (
	ReportMarkdown ReportFormat = "markdown"
	ReportHTML     ReportFormat = "html"
)

// ParseReportFormat reads a report format as the CLI takes it (md, markdown, html).
func ParseReportFormat(field, s string) (ReportFormat, error) {
	switch strings.ToLower(strings.TrimSpace(s)) {
	case "md", "markdown":
		return ReportMarkdown, nil
	case "html":
		return ReportHTML, nil
	}
	return "", errs.InvalidField(field, "%q is not a report format: markdown (or md) or html", s)
}

// RenderReport gathers a project's report (see Report) and renders it.
func (s *Service) RenderReport(ctx context.Context, project string, format ReportFormat) (string, error) {
	rep, err := s.Report(ctx, project)
	if err != nil {
		return "", err
	}
	if format == ReportHTML {
		return rep.HTML()
	}
	return rep.Markdown(), nil
}
