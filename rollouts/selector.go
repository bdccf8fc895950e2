package rollouts

import (
	"strings"

	"github.com/portside-dev/portside/errs"
)

// The Backstage annotations that tie a component to Argo CD applications (the same ones Backstage's
// Argo CD plugin reads).
const (
	AnnotationAppName      = "argocd/app-name"      // one or more application names, comma separated
	AnnotationAppSelector  = "argocd/app-selector"  // a Kubernetes label selector over applications
	AnnotationInstanceName = "argocd/instance-name" // the Argo CD instance; every instance when absent
	AnnotationAppNamespace = "argocd/app-namespace" // the applications' namespace (apps in any namespace)
)

// Selector is how a component finds its applications.
type Selector struct {
	// Instance limits the search to one Argo CD instance; "" means every configured instance.
	Instance string
	// Names are application names; Labels a label selector. A component sets one or the other.
	Names  []string
	Labels string
	// AppNamespace limits the applications to one namespace; "" means any.
	AppNamespace string
}

// SelectorOf reads a component's annotations. ok is false for a component without Argo CD
// annotations; a component that sets both a name and a selector, or an empty one, is refused with
// an error that names the annotation.
func SelectorOf(annotations map[string]string) (sel Selector, ok bool, err error) {
	names, hasNames := annotations[AnnotationAppName]
	labels, hasLabels := annotations[AnnotationAppSelector]
	if !hasNames && !hasLabels {
		return Selector{}, false, nil
	}
	if hasNames && hasLabels {
		return Selector{}, false, errs.InvalidField(AnnotationAppName, "set %s or %s, not both", AnnotationAppName, AnnotationAppSelector)
	}
	sel = Selector{Instance: strings.TrimSpace(annotations[AnnotationInstanceName]),
		AppNamespace: strings.TrimSpace(annotations[AnnotationAppNamespace])}
	if hasNames {
		for n := range strings.SplitSeq(names, ",") {
			if n = strings.TrimSpace(n); n != "" {
				sel.Names = append(sel.Names, n)
			}
		}
		if len(sel.Names) == 0 {
			return Selector{}, false, errs.InvalidField(AnnotationAppName, "names no application")
		}
		return sel, true, nil
	}
	if sel.Labels = strings.TrimSpace(labels); sel.Labels == "" {
		return Selector{}, false, errs.InvalidField(AnnotationAppSelector, "is empty")
	}
	return sel, true, nil
}

// OnInstance reports whether the selector looks at the named instance.
func (s Selector) OnInstance(name string) bool { return s.Instance == "" || s.Instance == name }
