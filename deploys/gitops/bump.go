package gitops

import (
	"bytes"
	"fmt"
	"strings"

	"go.yaml.in/yaml/v3"

	"github.com/portside-dev/portside/deploys"
)

// BumpKustomize sets the image's version in a kustomization's images: list, keeping the rest of
// the file (comments, order). A digest goes in digest: (and drops newTag:), a tag in newTag: (and
// drops digest:). An image the list lacks is added; a file without images: gets one.
func BumpKustomize(data []byte, image, version string) ([]byte, error) {
	doc, root, err := parse(data)
	if err != nil {
		return nil, err
	}
	images := lookup(root, "images")
	if images == nil {
		images = &yaml.Node{Kind: yaml.SequenceNode, Tag: "!!seq"}
		root.Content = append(root.Content, scalar("images"), images)
	}
	if images.Kind != yaml.SequenceNode {
		return nil, fmt.Errorf("images: is not a list")
	}
	var entry *yaml.Node
	for _, n := range images.Content {
		if n.Kind != yaml.MappingNode {
			continue
		}
		if name := lookup(n, "name"); name != nil && name.Value == image {
			entry = n
			break
		}
	}
	if entry == nil {
		entry = &yaml.Node{Kind: yaml.MappingNode, Tag: "!!map", Content: []*yaml.Node{scalar("name"), scalar(image)}}
		images.Content = append(images.Content, entry)
	}
	set, drop := "newTag", "digest"
	if deploys.IsDigest(version) {
		set, drop = "digest", "newTag"
	}
	remove(entry, drop)
	setScalar(entry, set, version)
	return encode(doc)
}

// BumpHelm sets the value at a dotted key path ("image.tag") of a Helm values file, keeping the
// rest of the file; missing maps on the way are added.
func BumpHelm(data []byte, keyPath, version string) ([]byte, error) {
	doc, root, err := parse(data)
	if err != nil {
		return nil, err
	}
	keys := strings.Split(keyPath, ".")
	node := root
	for i, k := range keys {
		if k == "" {
			return nil, fmt.Errorf("valuesKey %q has an empty key", keyPath)
		}
		if i == len(keys)-1 {
			setScalar(node, k, version)
			break
		}
		next := lookup(node, k)
		if next == nil {
			next = &yaml.Node{Kind: yaml.MappingNode, Tag: "!!map"}
			node.Content = append(node.Content, scalar(k), next)
		}
		if next.Kind != yaml.MappingNode {
			return nil, fmt.Errorf("%s is not a map", strings.Join(keys[:i+1], "."))
		}
		node = next
	}
	return encode(doc)
}

// parse reads a YAML document whose top is a map (an empty file is an empty map).
func parse(data []byte) (*yaml.Node, *yaml.Node, error) {
	var doc yaml.Node
	if err := yaml.Unmarshal(data, &doc); err != nil {
		return nil, nil, fmt.Errorf("not YAML: %w", err)
	}
	if doc.Kind == 0 {
		doc = yaml.Node{Kind: yaml.DocumentNode, Content: []*yaml.Node{{Kind: yaml.MappingNode, Tag: "!!map"}}}
	}
	if doc.Kind != yaml.DocumentNode || len(doc.Content) != 1 || doc.Content[0].Kind != yaml.MappingNode {
		return nil, nil, fmt.Errorf("the file is not a YAML map")
	}
	return &doc, doc.Content[0], nil
}

func encode(doc *yaml.Node) ([]byte, error) {
	var b bytes.Buffer
	enc := yaml.NewEncoder(&b)
	enc.SetIndent(2)
	if err := enc.Encode(doc); err != nil {
		return nil, err
	}
	if err := enc.Close(); err != nil {
		return nil, err
	}
	return b.Bytes(), nil
}

func scalar(v string) *yaml.Node { return &yaml.Node{Kind: yaml.ScalarNode, Tag: "!!str", Value: v} }

// lookup returns the value of key in a map node, or nil.
func lookup(m *yaml.Node, key string) *yaml.Node {
	for i := 0; i+1 < len(m.Content); i += 2 {
		if m.Content[i].Value == key {
			return m.Content[i+1]
		}
	}
	return nil
}

// setScalar sets key to a string value in a map node, in place when it is there (keeping its
// comments), appended otherwise.
func setScalar(m *yaml.Node, key, value string) {
	if v := lookup(m, key); v != nil {
		v.Kind, v.Tag, v.Value, v.Content, v.Style = yaml.ScalarNode, "!!str", value, nil, 0
		if looksNonString(value) {
			v.Style = yaml.DoubleQuotedStyle
		}
		return
	}
	n := scalar(value)
	if looksNonString(value) {
		n.Style = yaml.DoubleQuotedStyle
	}
	m.Content = append(m.Content, scalar(key), n)
}

// looksNonString reports whether a plain value would read back as something other than a string
// (a tag "1.10" is a float, "true" a bool): those are quoted.
func looksNonString(v string) bool {
	var x any
	if err := yaml.Unmarshal([]byte(v), &x); err != nil {
		return true
	}
	_, ok := x.(string)
	return !ok
}

// remove deletes key from a map node.
func remove(m *yaml.Node, key string) {
	for i := 0; i+1 < len(m.Content); i += 2 {
		if m.Content[i].Value == key {
			m.Content = append(m.Content[:i], m.Content[i+2:]...)
			return
		}
	}
}
