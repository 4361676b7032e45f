package settingsfile

import (
	"fmt"
	"reflect"
	"strings"
	"time"

	"gopkg.in/yaml.v3"
)

// Problems of a file's shape — an unknown key, a list where one value
// belongs, a word where a number belongs — are found by walking the YAML
// nodes beside the settings' Go type, so that they are said in the file's
// words (the key's path, "true or false", "a whole number", "a duration
// such as 20m") instead of the parser's Go type names. The parser's own
// errors remain the fallback for anything this walk lets through.

var (
	durationType = reflect.TypeOf(time.Duration(0))
	timeType     = reflect.TypeOf(time.Time{})
)

// checkShape appends a problem for every node of n that does not fit t.
func checkShape(n *yaml.Node, t reflect.Type, path string, out *[]LineProblem) {
	if n.Kind == yaml.AliasNode && n.Alias != nil {
		n = n.Alias
	}
	if n.Kind == yaml.ScalarNode && n.ShortTag() == "!!null" {
		return // an empty value is the zero value
	}
	bad := func(format string, a ...any) {
		*out = append(*out, LineProblem{Line: n.Line, Path: path, Message: fmt.Sprintf(format, a...)})
	}
	switch {
	case t == durationType:
		if n.Kind != yaml.ScalarNode {
			bad("want a duration such as 20m, 1h30m or 24h, got %s", describe(n))
		} else if _, err := time.ParseDuration(n.Value); err != nil {
			bad("want a duration such as 20m, 1h30m or 24h (units ns, us, ms, s, m, h), got %q", n.Value)
		}
		return
	case t == timeType:
		if n.Kind != yaml.ScalarNode {
			bad("want a time such as 2026-12-03T09:00:00Z, got %s", describe(n))
		}
		return
	}
	switch t.Kind() {
	case reflect.Struct:
		if n.Kind != yaml.MappingNode {
			bad("want keys (%s), got %s", strings.Join(keysOf(t), ", "), describe(n))
			return
		}
		for i := 0; i+1 < len(n.Content); i += 2 {
			k, v := n.Content[i], n.Content[i+1]
			ft, ok := fieldByKey(t, k.Value)
			if !ok {
				*out = append(*out, LineProblem{Line: k.Line, Path: path, Message: unknownKey(k.Value, keysOf(t))})
				continue
			}
			checkShape(v, ft, join(path, k.Value), out)
		}
	case reflect.Slice:
		if n.Kind != yaml.SequenceNode {
			bad("want a list (lines starting with \"- \"), got %s", describe(n))
			return
		}
		for i, e := range n.Content {
			checkShape(e, t.Elem(), fmt.Sprintf("%s[%d]", path, i), out)
		}
	case reflect.Bool:
		if n.Kind != yaml.ScalarNode || n.ShortTag() != "!!bool" {
			bad("want true or false, got %s", describe(n))
		}
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		if n.Kind != yaml.ScalarNode || n.ShortTag() != "!!int" {
			bad("want a whole number, got %s", describe(n))
		}
	case reflect.String:
		if n.Kind != yaml.ScalarNode {
			bad("want one value, got %s", describe(n))
		}
	}
}

// describe says what a node is, in YAML's words.
func describe(n *yaml.Node) string {
	switch n.Kind {
	case yaml.MappingNode:
		return "keys"
	case yaml.SequenceNode:
		return "a list"
	}
	return fmt.Sprintf("%q", n.Value)
}

func join(path, key string) string {
	if path == "" {
		return key
	}
	return path + "." + key
}

// keyOf returns the YAML key of a struct field ("" when it has none).
func keyOf(f reflect.StructField) string {
	if !f.IsExported() {
		return ""
	}
	name, _, _ := strings.Cut(f.Tag.Get("yaml"), ",")
	switch name {
	case "-":
		return ""
	case "":
		return strings.ToLower(f.Name) // yaml.v3's default
	}
	return name
}

func keysOf(t reflect.Type) []string {
	var keys []string
	for i := range t.NumField() {
		if k := keyOf(t.Field(i)); k != "" {
			keys = append(keys, k)
		}
	}
	return keys
}

func fieldByKey(t reflect.Type, key string) (reflect.Type, bool) {
	for i := range t.NumField() {
		if keyOf(t.Field(i)) == key {
			return t.Field(i).Type, true
		}
	}
	return nil, false
}

// unknownKey names an unknown key and the closest known one.
func unknownKey(key string, known []string) string {
	best, bestD := "", len(key)/2+2
	for _, k := range known {
		if d := distance(key, k); d < bestD {
			best, bestD = k, d
		}
	}
	if best != "" {
		return fmt.Sprintf("unknown key %q (did you mean %q?)", key, best)
	}
	return fmt.Sprintf("unknown key %q (known here: %s)", key, strings.Join(known, ", "))
}

// distance is the Levenshtein distance of a and b.
func distance(a, b string) int {
	prev := make([]int, len(b)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(a); i++ {
		cur := make([]int, len(b)+1)
		cur[0] = i
		for j := 1; j <= len(b); j++ {
			cost := 1
			if a[i-1] == b[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
		}
		prev = cur
	}
	return prev[len(b)]
}
