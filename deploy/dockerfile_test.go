package deploy

import (
	"bufio"
	"debug/elf"
	"os"
	"os/exec"
	"path"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/bmatcuk/doublestar/v4"
)

// No Docker engine runs here, so these tests check what an image build would need: the Dockerfile's
// sources exist and are in the build context, its go build commands build (run exactly as written,
// with CGO off) into static binaries, and its final stage is what production expects. The
// Dockerfile's syntax is checked by a linter from the npm registry (make docker-lint).

const dockerfile = "Dockerfile"

// instruction is one Dockerfile instruction, continuation lines joined.
type instruction struct {
	line  int
	cmd   string // upper case: FROM, RUN, COPY...
	args  string
	stage string // the stage it belongs to (its AS name, or its index)
}

// stage is one FROM and what follows it.
type stage struct {
	name, image string
	body        []instruction
}

func parseDockerfile(t *testing.T) []stage {
	t.Helper()
	f, err := os.Open(dockerfile)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var stages []stage
	sc := bufio.NewScanner(f)
	n, start := 0, 0
	var cur strings.Builder
	for sc.Scan() {
		n++
		l := sc.Text()
		trimmed := strings.TrimSpace(l)
		if cur.Len() == 0 && (trimmed == "" || strings.HasPrefix(trimmed, "#")) {
			continue
		}
		if cur.Len() == 0 {
			start = n
		}
		if strings.HasSuffix(trimmed, "\\") {
			cur.WriteString(strings.TrimSuffix(trimmed, "\\") + " ")
			continue
		}
		cur.WriteString(trimmed)
		text := cur.String()
		cur.Reset()
		cmd, args, _ := strings.Cut(text, " ")
		in := instruction{line: start, cmd: strings.ToUpper(cmd), args: strings.TrimSpace(args)}
		if in.cmd == "FROM" {
			image, name, _ := strings.Cut(in.args, " AS ")
			stages = append(stages, stage{name: strings.TrimSpace(name), image: strings.TrimSpace(image)})
			continue
		}
		if len(stages) == 0 {
			t.Fatalf("%s line %d: %s before FROM", dockerfile, start, in.cmd)
		}
		s := &stages[len(stages)-1]
		in.stage = s.name
		s.body = append(s.body, in)
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	if len(stages) < 2 {
		t.Fatalf("%s has %d stages, want a multi-stage build", dockerfile, len(stages))
	}
	return stages
}

// copyArgs splits a COPY's arguments into flags, sources and destination.
func copyArgs(args string) (flags map[string]string, srcs []string, dst string) {
	flags = map[string]string{}
	var rest []string
	for _, f := range strings.Fields(args) {
		if strings.HasPrefix(f, "--") {
			k, v, _ := strings.Cut(strings.TrimPrefix(f, "--"), "=")
			flags[k] = v
			continue
		}
		rest = append(rest, f)
	}
	if len(rest) < 2 {
		return flags, nil, ""
	}
	return flags, rest[:len(rest)-1], rest[len(rest)-1]
}

// dockerignore reads ../.dockerignore: the patterns in order, "!" re-including.
func dockerignore(t *testing.T) []string {
	t.Helper()
	b, err := os.ReadFile("../.dockerignore")
	if err != nil {
		t.Fatalf("the repository has no .dockerignore: %v", err)
	}
	var out []string
	for _, l := range strings.Split(string(b), "\n") {
		l = strings.TrimSpace(l)
		if l == "" || strings.HasPrefix(l, "#") {
			continue
		}
		neg := strings.HasPrefix(l, "!")
		p := path.Clean(strings.TrimPrefix(strings.TrimPrefix(l, "!"), "/"))
		if neg {
			p = "!" + p
		}
		out = append(out, p)
	}
	return out
}

// ignored says whether Docker leaves p (slash separated, relative to the context) out of the
// build context: the last pattern that matches p or one of its parent directories decides, as
// in Docker's patternmatcher (** matches any number of directories; a bare name only at the root).
func ignored(patterns []string, p string) bool {
	out := false
	for _, pat := range patterns {
		neg := strings.HasPrefix(pat, "!")
		pat = strings.TrimPrefix(pat, "!")
		for q := p; q != "." && q != "/"; q = path.Dir(q) {
			if ok, _ := doublestar.Match(pat, q); ok {
				out = !neg
				break
			}
		}
	}
	return out
}

// TestDockerignoreKeepsTheContextToSources: local installs, builds and databases stay out of
// the build context, and every tracked source the build needs is in it.
func TestDockerignoreKeepsTheContextToSources(t *testing.T) {
	pats := dockerignore(t)
	for _, p := range []string{
		".git/HEAD", "frontend/node_modules/react/index.js", "deploy/lint/node_modules/x/y.js",
		"frontend/dist/index.html", "frontend/dist/assets/app.js", "portside.db", "portside.db-wal",
		"catalog/cache.db", "bin/portside", "portside", "portside-argocd", "cmd/portside/portside",
		"bench/out/run.json", "frontend/e2e/out/x.png", "docs/screenshots/catalog.png", "store/store.test",
	} {
		if !ignored(pats, p) {
			t.Errorf("%s would be sent into the build context", p)
		}
	}
	// Every tracked file is in the context, but for CI scripts, screenshots and the portal's
	// build placeholder (the image builds the portal itself).
	out, err := exec.Command("git", "ls-files", "--full-name", "..").Output()
	if err != nil {
		t.Skipf("git ls-files: %v (no git checkout)", err)
	}
	allowed := []string{".ci/", "docs/screenshots/", "frontend/dist/"}
	files := strings.Fields(string(out))
	if len(files) < 100 {
		t.Fatalf("git ls-files listed %d files", len(files))
	}
	for _, f := range files {
		if ignored(pats, f) && !slices.ContainsFunc(allowed, func(a string) bool { return strings.HasPrefix(f, a) }) {
			t.Errorf("tracked file %s is left out of the build context", f)
		}
	}
}

// TestDockerfileSources: every COPY from the build context names paths that exist and are in the
// context, and every COPY from a stage names a stage before it and what that stage builds.
func TestDockerfileSources(t *testing.T) {
	stages := parseDockerfile(t)
	pats := dockerignore(t)
	built := map[string][]string{} // stage → paths its RUN commands make
	for i, s := range stages {
		workdir := "/"
		for _, in := range s.body {
			switch in.cmd {
			case "WORKDIR":
				workdir = path.Join(workdir, in.args)
			case "RUN":
				// The shell form runs under /bin/sh -c: it must at least parse.
				if b, err := exec.Command("sh", "-n", "-c", in.args).CombinedOutput(); err != nil {
					t.Errorf("line %d: RUN is not valid sh: %v %s", in.line, err, b)
				}
				for _, m := range regexp.MustCompile(`-o\s+(\S+)`).FindAllStringSubmatch(in.args, -1) {
					built[s.name] = append(built[s.name], m[1])
				}
				if strings.Contains(in.args, "npm run build") {
					// Vite writes the portal to dist/ (frontend/vite.config.ts's outDir, checked below).
					built[s.name] = append(built[s.name], path.Join(workdir, "dist")+"/")
				}
			case "COPY", "ADD":
				if in.cmd == "ADD" {
					t.Errorf("line %d: ADD (it fetches URLs and unpacks archives); use COPY", in.line)
				}
				flags, srcs, dst := copyArgs(in.args)
				if len(srcs) == 0 || dst == "" {
					t.Errorf("line %d: COPY without source or destination", in.line)
					continue
				}
				if from, ok := flags["from"]; ok {
					idx := slices.IndexFunc(stages[:i], func(p stage) bool { return p.name == from })
					if idx < 0 {
						t.Errorf("line %d: COPY --from=%s: no such stage before it", in.line, from)
						continue
					}
					for _, src := range srcs {
						if !slices.Contains(built[from], src) {
							t.Errorf("line %d: COPY --from=%s %s: the stage builds %v", in.line, from, src, built[from])
						}
					}
					continue
				}
				for _, src := range srcs {
					rel := path.Clean(src)
					if rel == "." {
						continue
					}
					matches, _ := filepath.Glob(filepath.Join("..", filepath.FromSlash(rel)))
					if len(matches) == 0 {
						t.Errorf("line %d: COPY %s: no such path in the repository", in.line, src)
					}
					if ignored(pats, rel) {
						t.Errorf("line %d: COPY %s: .dockerignore leaves it out of the build context", in.line, src)
					}
				}
			}
		}
	}
	b, err := os.ReadFile("../frontend/vite.config.ts")
	if err != nil {
		t.Fatal(err)
	}
	if m := regexp.MustCompile(`outDir:\s*['"]([^'"]+)['"]`).FindSubmatch(b); m != nil && string(m[1]) != "dist" {
		t.Errorf("frontend/vite.config.ts builds the portal into %s: the portal stage's COPY takes dist/", m[1])
	}
}

// TestDockerfileFinalStage: the image that runs holds both binaries, CA certificates and git (git
// catalog locations run it), runs as a numeric non-root user, and agrees with the chart on the port
// and the git cache.
func TestDockerfileFinalStage(t *testing.T) {
	stages := parseDockerfile(t)
	final := stages[len(stages)-1]
	for _, s := range stages {
		if strings.HasSuffix(s.image, ":latest") || !strings.Contains(s.image, ":") {
			t.Errorf("FROM %s: pin a tag", s.image)
		}
	}
	if slices.ContainsFunc(stages[:len(stages)-1], func(s stage) bool { return s.name == final.image }) {
		t.Errorf("the final stage builds on a build stage (%s): compilers would ship", final.image)
	}
	var user, entrypoint, expose string
	env := map[string]string{}
	var copied []string
	for _, in := range final.body {
		switch in.cmd {
		case "USER":
			user = in.args
		case "ENTRYPOINT":
			entrypoint = in.args
		case "EXPOSE":
			expose = in.args
		case "ENV":
			for _, kv := range regexp.MustCompile(`(\w+)=(\S+)`).FindAllStringSubmatch(in.args, -1) {
				env[kv[1]] = kv[2]
			}
		case "RUN":
			m := regexp.MustCompile(`apt-get install ((?:-\S+\s+)*)([^&]+)`).FindStringSubmatch(in.args)
			if m == nil {
				continue
			}
			pkgs := strings.Fields(m[2])
			slices.Sort(pkgs)
			if !slices.Equal(pkgs, []string{"ca-certificates", "git"}) {
				t.Errorf("the final stage installs %v, want ca-certificates and git only", pkgs)
			}
			if !strings.Contains(m[1], "--no-install-recommends") || !strings.Contains(in.args, "rm -rf /var/lib/apt/lists/*") {
				t.Errorf("apt-get install without --no-install-recommends, or apt's lists left in the image")
			}
		case "COPY":
			flags, srcs, _ := copyArgs(in.args)
			if flags["from"] == "" {
				t.Errorf("line %d: the final stage copies from the build context: %s", in.line, in.args)
			}
			copied = append(copied, srcs...)
		}
	}
	uid, _, _ := strings.Cut(user, ":")
	if uid == "" || strings.Trim(uid, "0123456789") != "" || strings.Trim(uid, "0") == "" {
		t.Errorf("USER %q: want a numeric non-root user (Kubernetes checks runAsNonRoot on the number)", user)
	}
	slices.Sort(copied)
	if !slices.Equal(copied, []string{"/out/portside", "/out/portside-argocd"}) {
		t.Errorf("the final stage copies %v, want both binaries only", copied)
	}
	if entrypoint != `["portside"]` {
		t.Errorf("ENTRYPOINT %s", entrypoint)
	}
	// The chart's pods listen where the image says and mount the git cache where it points.
	r := mustRender(t, "")
	c := r.deployment.Spec.Template.Spec.Containers[0]
	port := c.Ports[0].ContainerPort
	if expose != "7007" || !strings.HasSuffix(env["PORTSIDE_ADDR"], ":7007") || port != 7007 {
		t.Errorf("EXPOSE %s, PORTSIDE_ADDR %s, chart containerPort %d: want one port", expose, env["PORTSIDE_ADDR"], port)
	}
	cache := ""
	for _, m := range c.VolumeMounts {
		if m.Name == "git-cache" {
			cache = m.MountPath
		}
	}
	if env["PORTSIDE_GIT_CACHE_DIR"] != cache {
		t.Errorf("image git cache %s, chart mounts the git-cache emptyDir at %s", env["PORTSIDE_GIT_CACHE_DIR"], cache)
	}
	if *r.deployment.Spec.Template.Spec.SecurityContext.RunAsUser != 10001 || uid != "10001" {
		t.Errorf("image user %s, chart runAsUser %d", uid, *r.deployment.Spec.Template.Spec.SecurityContext.RunAsUser)
	}
}

// TestDockerfileGoBuilds runs the Dockerfile's go build commands as written (VERSION given, /out
// a temporary directory) from the repository root, and checks that they build both binaries,
// statically linked (CGO off: the final stage has no C toolchain's library to match), with the
// version stamped in.
func TestDockerfileGoBuilds(t *testing.T) {
	if testing.Short() {
		t.Skip("builds both binaries (minutes on a cold build cache)")
	}
	out := t.TempDir()
	var builds []instruction
	for _, s := range parseDockerfile(t) {
		for _, in := range s.body {
			if in.cmd == "RUN" && strings.Contains(in.args, "go build") {
				builds = append(builds, in)
			}
		}
	}
	if len(builds) == 0 {
		t.Fatal("the Dockerfile runs no go build")
	}
	const version = "9.9.9-test"
	for _, in := range builds {
		for _, cmd := range strings.Split(in.args, "&&") {
			if !strings.Contains(cmd, "go build") {
				continue
			}
			if !strings.Contains(cmd, "CGO_ENABLED=0") {
				t.Errorf("line %d: go build without CGO_ENABLED=0: %s", in.line, cmd)
			}
			cmd = strings.ReplaceAll(cmd, "/out/", out+"/")
			sh := exec.Command("sh", "-c", cmd)
			sh.Dir = ".."
			sh.Env = append(os.Environ(), "VERSION="+version)
			if b, err := sh.CombinedOutput(); err != nil {
				t.Fatalf("line %d: %s: %v\n%s", in.line, cmd, err, b)
			}
		}
	}
	for _, bin := range []string{"portside", "portside-argocd"} {
		p := filepath.Join(out, bin)
		f, err := elf.Open(p)
		if err != nil {
			t.Fatalf("%s: %v", bin, err)
		}
		for _, prog := range f.Progs {
			if prog.Type == elf.PT_INTERP || prog.Type == elf.PT_DYNAMIC {
				t.Errorf("%s is dynamically linked (%s)", bin, prog.Type)
			}
		}
		f.Close()
	}
	got, err := exec.Command(filepath.Join(out, "portside"), "version").Output()
	if err != nil || strings.TrimSpace(string(got)) != "portside "+version {
		t.Errorf("portside version = %q (%v), want the build's VERSION", got, err)
	}
}
