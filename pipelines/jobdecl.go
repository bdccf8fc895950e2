package pipelines

import (
	"regexp"
	"slices"
	"sort"
	"strconv"
	"strings"
	"unicode/utf8"

	"go.yaml.in/yaml/v3"
)

// JobStage is what a stage of a Kubernetes pipeline runs: one batch/v1 Job of one container (see
// pipelines/kubejobs). The fields follow the Job's own names, so that a reader who knows Jobs
// knows them; the bounds keep a catalog entry from asking a cluster for anything unbounded.
type JobStage struct {
	// Image is the container image (required).
	Image string
	// Command and Args are the container's entrypoint and its arguments (the image's when empty).
	Command []string `json:",omitempty"`
	Args    []string `json:",omitempty"`
	// Requests and Limits are resource quantities by resource name (cpu, memory,
	// ephemeral-storage), in Kubernetes' quantity syntax (500m, 1Gi).
	Requests map[string]string `json:",omitempty"`
	Limits   map[string]string `json:",omitempty"`
	// Labels and Annotations are added to the Job and its Pod (a scheduler, a policy engine or a
	// test's kwok stage reads them); Portside's own labels (portside.dev/...) are reserved.
	Labels      map[string]string `json:",omitempty"`
	Annotations map[string]string `json:",omitempty"`
	// BackoffLimit is how many times a failed Pod is retried before the stage fails.
	BackoffLimit int
	// ActiveDeadlineSeconds bounds the stage's run time; past it the Job fails (TIMED_OUT).
	ActiveDeadlineSeconds int
	// TTLSecondsAfterFinished is how long the finished Job stays for its logs before Kubernetes
	// deletes it.
	TTLSecondsAfterFinished int
}

// Bounds and defaults of a Kubernetes stage.
const (
	DefaultJobBackoffLimit   = 0 // a CI stage retried silently hides flakiness: fail fast unless asked
	MaxJobBackoffLimit       = 10
	DefaultJobActiveDeadline = 3600
	MaxJobActiveDeadline     = 24 * 3600
	DefaultJobTTL            = 24 * 3600
	MinJobTTL                = 300 // the follower must see a Job finish before it goes
	MaxJobTTL                = 30 * 24 * 3600
	maxJobImage              = 512 // characters (an image reference is ASCII)
	maxJobArgv               = 64
	// maxJobArg and maxJobAnnotationValue are bytes: they keep a Job within what Kubernetes
	// stores (an object's annotations hold 256 KiB together; 32 values of 4096 characters of
	// four bytes would not fit).
	maxJobArg             = 4096
	maxJobMeta            = 32
	maxJobAnnotationValue = 4096
	// ReservedLabelPrefix marks the labels Portside sets on the Jobs it creates.
	ReservedLabelPrefix = "portside.dev/"
)

// jobResources are the resource names a stage may request or limit.
var jobResources = []string{"cpu", "memory", "ephemeral-storage"}

var (
	imageRE = regexp.MustCompile(`^[A-Za-z0-9][-A-Za-z0-9_.:/@+]*$`)
	// Kubernetes' quantity: a decimal number with an optional binary, decimal or exponent suffix.
	quantityRE = regexp.MustCompile(`^(\d+(\.\d*)?|\.\d+)(m|k|M|G|T|P|E|Ki|Mi|Gi|Ti|Pi|Ei|[eE][-+]?\d+)?$`)
	// A label or annotation key: an optional DNS subdomain prefix and a name of at most 63.
	labelNameRE   = regexp.MustCompile(`^[A-Za-z0-9]([-A-Za-z0-9_.]{0,61}[A-Za-z0-9])?$`)
	labelPrefixRE = regexp.MustCompile(`^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$`)
	labelValueRE  = regexp.MustCompile(`^([A-Za-z0-9]([-A-Za-z0-9_.]{0,61}[A-Za-z0-9])?)?$`)
)

// jobStage reads the Job fields of a Kubernetes pipeline's stage.
func (p *declParser) jobStage(f string, item *yaml.Node, fields map[string]*yaml.Node) *JobStage {
	j := &JobStage{BackoffLimit: DefaultJobBackoffLimit, ActiveDeadlineSeconds: DefaultJobActiveDeadline, TTLSecondsAfterFinished: DefaultJobTTL}
	j.Image = p.str(f+".image", item, fields["image"], true)
	switch {
	case j.Image == "":
	case utf8.RuneCountInString(j.Image) > maxJobImage:
		p.add(fields["image"], f+".image", "has %d characters; at most %d", utf8.RuneCountInString(j.Image), maxJobImage)
	case !imageRE.MatchString(j.Image):
		p.add(fields["image"], f+".image", "%q is not a container image reference, e.g. golang:1.25 or ghcr.io/acme/build@sha256:…", j.Image)
	}
	j.Command = p.argv(f+".command", fields["command"])
	j.Args = p.argv(f+".args", fields["args"])
	if r := fields["resources"]; r != nil {
		if r.Kind != yaml.MappingNode {
			p.add(r, f+".resources", "expected {requests: {cpu: 500m, memory: 1Gi}, limits: {...}}, got %s", nodeKind(r))
		} else {
			rf := p.mapping(f+".resources", r, []string{"requests", "limits"})
			j.Requests = p.quantities(f+".resources.requests", rf["requests"])
			j.Limits = p.quantities(f+".resources.limits", rf["limits"])
		}
	}
	j.Labels = p.meta(f+".labels", fields["labels"], true)
	j.Annotations = p.meta(f+".annotations", fields["annotations"], false)
	j.BackoffLimit = p.bounded(f+".backoffLimit", fields["backoffLimit"], j.BackoffLimit, 0, MaxJobBackoffLimit)
	j.ActiveDeadlineSeconds = p.bounded(f+".activeDeadlineSeconds", fields["activeDeadlineSeconds"], j.ActiveDeadlineSeconds, 1, MaxJobActiveDeadline)
	j.TTLSecondsAfterFinished = p.bounded(f+".ttlSecondsAfterFinished", fields["ttlSecondsAfterFinished"], j.TTLSecondsAfterFinished, MinJobTTL, MaxJobTTL)
	return j
}

// argv reads a command or its arguments: a list of strings.
func (p *declParser) argv(field string, n *yaml.Node) []string {
	if n == nil {
		return nil
	}
	if n.Kind != yaml.SequenceNode {
		p.add(n, field, "expected a list of strings, e.g. [go, test, ./...], got %s", nodeKind(n))
		return nil
	}
	if len(n.Content) > maxJobArgv {
		p.add(n, field, "has %d elements; at most %d", len(n.Content), maxJobArgv)
		return nil
	}
	out := make([]string, 0, len(n.Content))
	for i, a := range n.Content {
		fi := field + "[" + strconv.Itoa(i) + "]"
		switch {
		case a.Kind != yaml.ScalarNode || a.Tag == "!!null":
			p.add(a, fi, "expected a string, got %s", nodeKind(a))
		case len(a.Value) > maxJobArg:
			p.add(a, fi, "has %d bytes; at most %d", len(a.Value), maxJobArg)
		default:
			out = append(out, a.Value)
		}
	}
	return out
}

// quantities reads resource quantities by resource name.
func (p *declParser) quantities(field string, n *yaml.Node) map[string]string {
	if n == nil {
		return nil
	}
	if n.Kind != yaml.MappingNode {
		p.add(n, field, "expected {cpu: 500m, memory: 1Gi}, got %s", nodeKind(n))
		return nil
	}
	out := map[string]string{}
	given := p.mapping(field, n, jobResources)
	for _, k := range jobResources {
		v := given[k]
		if v == nil {
			continue
		}
		switch {
		case v.Kind != yaml.ScalarNode || v.Tag == "!!null":
			p.add(v, field+"."+k, "expected a quantity such as 500m or 1Gi, got %s", nodeKind(v))
		case !quantityRE.MatchString(v.Value):
			p.add(v, field+"."+k, "%q is not a Kubernetes quantity; expected e.g. 500m, 2, 512Mi or 1Gi", v.Value)
		default:
			out[k] = v.Value
		}
	}
	return out
}

// meta reads labels (label rules for values) or annotations.
func (p *declParser) meta(field string, n *yaml.Node, labels bool) map[string]string {
	if n == nil {
		return nil
	}
	if n.Kind != yaml.MappingNode {
		p.add(n, field, "expected a mapping of keys to values, got %s", nodeKind(n))
		return nil
	}
	if len(n.Content)/2 > maxJobMeta {
		p.add(n, field, "has %d entries; at most %d", len(n.Content)/2, maxJobMeta)
		return nil
	}
	out := map[string]string{}
	keys := make([]string, 0, len(n.Content)/2)
	nodes := map[string][2]*yaml.Node{}
	for i := 0; i+1 < len(n.Content); i += 2 {
		k, v := n.Content[i], n.Content[i+1]
		if _, twice := nodes[k.Value]; twice {
			p.add(k, field+"."+k.Value, "given twice")
			continue
		}
		nodes[k.Value] = [2]*yaml.Node{k, v}
		keys = append(keys, k.Value)
	}
	sort.Strings(keys)
	for _, key := range keys {
		k, v := nodes[key][0], nodes[key][1]
		fk := field + "." + key
		if msg := checkMetaKey(key); msg != "" {
			p.add(k, fk, "%s", msg)
			continue
		}
		if v.Kind != yaml.ScalarNode || v.Tag == "!!null" {
			p.add(v, fk, "expected a string, got %s", nodeKind(v))
			continue
		}
		switch {
		case labels && !labelValueRE.MatchString(v.Value):
			p.add(v, fk, "%q is not a label value; expected at most 63 of [A-Za-z0-9-_.], starting and ending with a letter or digit", v.Value)
		case !labels && len(v.Value) > maxJobAnnotationValue:
			p.add(v, fk, "has %d bytes; at most %d", len(v.Value), maxJobAnnotationValue)
		default:
			out[key] = v.Value
		}
	}
	return out
}

// checkMetaKey says what is wrong with a label or annotation key ("" when nothing).
func checkMetaKey(key string) string {
	prefix, name, hasPrefix := strings.Cut(key, "/")
	if !hasPrefix {
		name, prefix = prefix, ""
	}
	switch {
	case hasPrefix && (len(prefix) > 253 || !labelPrefixRE.MatchString(prefix)):
		return "the prefix of " + strconv.Quote(key) + " is not a DNS subdomain"
	case !labelNameRE.MatchString(name):
		return strconv.Quote(key) + " is not a key; expected an optional DNS prefix and / then at most 63 of [A-Za-z0-9-_.], starting and ending with a letter or digit"
	case strings.HasPrefix(key, ReservedLabelPrefix):
		return strconv.Quote(key) + " is Portside's own: the " + ReservedLabelPrefix + " keys tie a Job to its run and stage"
	case strings.HasPrefix(key, "batch.kubernetes.io/") || slices.Contains([]string{"job-name", "controller-uid"}, key):
		return strconv.Quote(key) + " is set by Kubernetes' Job controller"
	}
	return ""
}

// bounded reads a whole number between lo and hi, or returns def when the field is absent.
func (p *declParser) bounded(field string, n *yaml.Node, def, lo, hi int) int {
	if n == nil {
		return def
	}
	v, err := strconv.Atoi(n.Value)
	switch {
	case n.Kind != yaml.ScalarNode || n.Tag != "!!int" || err != nil:
		p.add(n, field, "expected a whole number from %d to %d, got %s", lo, hi, nodeKind(n))
	case v < lo || v > hi:
		p.add(n, field, "%d is out of range; expected %d to %d", v, lo, hi)
	default:
		return v
	}
	return def
}
