// Package settingsfile is the YAML form of crmsync's settings that people
// edit (`crmsync settings export | validate | import`).
//
// Decode refuses unknown keys (a misspelt setting must not be silently
// ignored) and reports every problem with the line it is on, in the
// file's words: YAML syntax errors from the parser, unknown keys and
// values of the wrong kind from a walk of the file beside the settings'
// shape (shape.go), and the domain's validation problems
// (crmsync.Settings.Validate) mapped from their paths back to lines.
// Durations are written as Go durations ("20m0s", "24h0m0s").
package settingsfile

import (
	"bytes"
	"errors"
	"fmt"
	"reflect"
	"regexp"
	"strconv"
	"strings"

	"gopkg.in/yaml.v3"

	"github.com/crmsync/crmsync/pkg/crmsync"
)

// Header is written at the top of every exported file.
const Header = `# crmsync settings. Edit, then: crmsync settings validate FILE && crmsync settings import FILE
# Rules: prefer_salesforce_unless_blank | always_use_salesforce | two_way | dont_sync
# version is the stored version this file was exported from; import refuses
# the file when the stored settings changed since (export again and re-apply).
`

// Encode returns the YAML form of s.
func Encode(s crmsync.Settings) ([]byte, error) {
	var buf bytes.Buffer
	buf.WriteString(Header)
	enc := yaml.NewEncoder(&buf)
	enc.SetIndent(2)
	if err := enc.Encode(s); err != nil {
		return nil, fmt.Errorf("settingsfile: encode: %w", err)
	}
	if err := enc.Close(); err != nil {
		return nil, fmt.Errorf("settingsfile: encode: %w", err)
	}
	return buf.Bytes(), nil
}

// LineProblem is one problem in a file.
type LineProblem struct {
	Line    int // 1-based; 0 when unknown
	Path    string
	Message string
}

func (p LineProblem) String() string {
	where := "line ?"
	if p.Line > 0 {
		where = "line " + strconv.Itoa(p.Line)
	}
	if p.Path != "" {
		return fmt.Sprintf("%s: %s: %s", where, p.Path, p.Message)
	}
	return fmt.Sprintf("%s: %s", where, p.Message)
}

// Error lists every problem of a file. It wraps crmsync.ErrInvalid.
type Error struct {
	Problems []LineProblem
}

func (e *Error) Error() string {
	msgs := make([]string, len(e.Problems))
	for i, p := range e.Problems {
		msgs[i] = p.String()
	}
	return "settings file invalid:\n  " + strings.Join(msgs, "\n  ")
}

// Unwrap makes errors.Is(err, crmsync.ErrInvalid) hold.
func (e *Error) Unwrap() error { return crmsync.ErrInvalid }

var lineRE = regexp.MustCompile(`^(?:yaml: )?line (\d+): (.*)$`)

func parserProblem(msg string) LineProblem {
	if m := lineRE.FindStringSubmatch(msg); m != nil {
		n, _ := strconv.Atoi(m[1])
		return LineProblem{Line: n, Message: m[2]}
	}
	return LineProblem{Message: strings.TrimPrefix(msg, "yaml: ")}
}

// Decode parses and validates a settings file.
func Decode(b []byte) (crmsync.Settings, error) {
	var s crmsync.Settings
	var root yaml.Node
	if err := yaml.Unmarshal(b, &root); err != nil {
		return s, &Error{Problems: []LineProblem{parserProblem(err.Error())}}
	}
	if len(root.Content) == 0 {
		return s, &Error{Problems: []LineProblem{{Message: "the file is empty"}}}
	}
	if root.Content[0].Kind != yaml.MappingNode {
		return s, &Error{Problems: []LineProblem{{Line: root.Content[0].Line, Message: "want the settings' keys (version, objects, mappings, …), got " + describe(root.Content[0])}}}
	}
	var shape []LineProblem
	checkShape(root.Content[0], reflect.TypeOf(s), "", &shape)
	if len(shape) > 0 {
		return s, &Error{Problems: shape}
	}
	dec := yaml.NewDecoder(bytes.NewReader(b))
	dec.KnownFields(true)
	if err := dec.Decode(&s); err != nil {
		var te *yaml.TypeError
		if errors.As(err, &te) {
			e := &Error{}
			for _, m := range te.Errors {
				e.Problems = append(e.Problems, parserProblem(m))
			}
			return s, e
		}
		return s, &Error{Problems: []LineProblem{parserProblem(err.Error())}}
	}
	if err := s.Validate(); err != nil {
		var ve *crmsync.ValidationError
		if !errors.As(err, &ve) {
			return s, fmt.Errorf("settingsfile: %w", err)
		}
		e := &Error{}
		for _, p := range ve.Problems {
			e.Problems = append(e.Problems, LineProblem{Line: lineOf(root.Content[0], p.Path), Path: p.Path, Message: p.Message})
		}
		return s, e
	}
	return s, nil
}

var stepRE = regexp.MustCompile(`^([a-z_]+)(?:\[(\d+)\])?$`)

// lineOf finds the line of a path like "mappings[2].rule", or of its
// deepest existing ancestor.
func lineOf(n *yaml.Node, path string) int {
	line := n.Line
	for _, step := range strings.Split(path, ".") {
		m := stepRE.FindStringSubmatch(step)
		if m == nil || n.Kind != yaml.MappingNode {
			return line
		}
		var next *yaml.Node
		for i := 0; i+1 < len(n.Content); i += 2 {
			if n.Content[i].Value == m[1] {
				line, next = n.Content[i].Line, n.Content[i+1]
			}
		}
		if next == nil {
			return line
		}
		n = next
		if m[2] != "" {
			idx, _ := strconv.Atoi(m[2])
			if n.Kind != yaml.SequenceNode || idx >= len(n.Content) {
				return line
			}
			n = n.Content[idx]
			line = n.Line
		}
	}
	return line
}

// Locate puts problems found on settings decoded from file b — their
// paths as crmsync.Problem has them ("mappings[2]") — on the lines of b,
// for checks that run after Decode (such as type compatibility against
// the CRMs' metadata).
func Locate(b []byte, probs []crmsync.Problem) []LineProblem {
	var root yaml.Node
	_ = yaml.Unmarshal(b, &root) // b decoded before; on failure every line is 0 (unknown)
	out := make([]LineProblem, 0, len(probs))
	for _, p := range probs {
		line := 0
		if len(root.Content) > 0 {
			line = lineOf(root.Content[0], p.Path)
		}
		out = append(out, LineProblem{Line: line, Path: p.Path, Message: p.Message})
	}
	return out
}
