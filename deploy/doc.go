// Package deploy holds how Portside is shipped: the container image (Dockerfile, with the
// repository's .dockerignore), the Helm chart (helm/portside) and its Dockerfile linter (lint/).
// It has no code of its own; its tests render the chart with Helm's engine for every documented
// combination of values (helm/portside/ci), decode each object strictly with the Kubernetes API
// types, check what production needs of them, and build what the Dockerfile builds.
package deploy
