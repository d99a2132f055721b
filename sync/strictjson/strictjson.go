// Package strictjson checks a JSON document against the Go type it is to
// be decoded into, before encoding/json decodes it, for what encoding/json
// lets pass: keys that name no field (at any depth, also inside a field
// whose type decodes itself) and keys that name a field only without
// regard to case ({"Tracking": ...} is taken as "tracking"). Errors name the
// JSON path of the value ("rules.max_weight_g", "items[2].sku"), never the
// Go field.
package strictjson

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"reflect"
	"slices"
	"strings"
)

var unmarshalerType = reflect.TypeFor[json.Unmarshaler]()

// Check checks data against the Go type of v before it is decoded into v:
// every key of every object must name a field of its struct exactly, at any
// depth (encoding/json's DisallowUnknownFields does not reach into a field
// whose type has its own UnmarshalJSON, such as edge.Rules), and every value
// must fit its field. It takes the type alone, so fields that other packages
// add to a config are checked the same way. top names the document in
// errors about its top level ("the file").
func Check(data []byte, v any, top string) error {
	return checker{top: top, strict: true}.check(data, v)
}

// CheckCase checks only the case of data's keys against the Go type of v:
// a key that names a field of its struct without regard to case but not
// exactly is an error (encoding/json would take it as that field), at any
// depth; keys that name no field, and values, are left to the decoder.
// It is what an API that ignores unknown keys needs to be case-exact.
func CheckCase(data []byte, v any, top string) error {
	return checker{top: top}.check(data, v)
}

// checker walks a document against a type: strict refuses unknown keys and
// checks every value; otherwise only keys in another case are refused.
type checker struct {
	top    string
	strict bool
}

func (c checker) check(data []byte, v any) error {
	var any any
	if err := json.Unmarshal(data, &any); err != nil {
		var se *json.SyntaxError
		if errors.As(err, &se) {
			line, col := position(data, se.Offset)
			return fmt.Errorf("line %d, column %d: %w", line, col, err)
		}
		return err
	}
	return c.value("", json.RawMessage(data), reflect.TypeOf(v))
}

// position returns the line and column (from 1) of the byte at offset.
func position(data []byte, offset int64) (line, col int) {
	offset = min(offset, int64(len(data)))
	before := data[:offset]
	line = bytes.Count(before, []byte("\n")) + 1
	return line, len(before) - bytes.LastIndexByte(before, '\n')
}

// value checks raw, found at path, against t.
func (c checker) value(path string, raw json.RawMessage, t reflect.Type) error {
	t = indirect(t)
	if bytes.Equal(bytes.TrimSpace(raw), []byte("null")) {
		return nil
	}
	custom := reflect.PointerTo(t).Implements(unmarshalerType)
	if !c.strict && (custom || !composite(t)) {
		return nil // a value's type, and a type that decodes itself, are the decoder's
	}
	switch {
	case t.Kind() == reflect.Struct:
		if err := c.keys(path, raw, t, custom); err != nil {
			return err
		}
		if custom { // its own decoder knows which types it takes
			return c.decodeEach(path, raw, t)
		}
		return nil
	case custom:
		return c.decodeAt(path, raw, t)
	case t.Kind() == reflect.Map && t.Key().Kind() == reflect.String:
		var m map[string]json.RawMessage
		if err := json.Unmarshal(raw, &m); err != nil {
			return c.shape(path, "an object")
		}
		for _, k := range sortedKeys(m) {
			if err := c.value(join(path, k), m[k], t.Elem()); err != nil {
				return err
			}
		}
		return nil
	case t.Kind() == reflect.Slice && t.Elem().Kind() != reflect.Uint8:
		var items []json.RawMessage
		if err := json.Unmarshal(raw, &items); err != nil {
			return c.shape(path, "a list")
		}
		for i, it := range items {
			if err := c.value(fmt.Sprintf("%s[%d]", path, i), it, t.Elem()); err != nil {
				return err
			}
		}
		return nil
	default:
		return c.decodeAt(path, raw, t)
	}
}

// composite reports whether values of t hold keys to check: structs, maps
// with string keys and lists (but bytes).
func composite(t reflect.Type) bool {
	switch t.Kind() {
	case reflect.Struct:
		return true
	case reflect.Map:
		return t.Key().Kind() == reflect.String
	case reflect.Slice:
		return t.Elem().Kind() != reflect.Uint8
	}
	return false
}

// shape is the error of a value that is not the object or list its field
// wants; left to the decoder when only keys are checked.
func (c checker) shape(path, want string) error {
	if !c.strict {
		return nil
	}
	return fmt.Errorf("%s: want %s", c.orTop(path), want)
}

// keys refuses the keys of the object raw that name no field of the
// struct t (when strict; in any case those that name one in another case),
// and checks the value of each key that does (only its keys when the
// struct decodes itself).
func (c checker) keys(path string, raw json.RawMessage, t reflect.Type, keysOnly bool) error {
	var m map[string]json.RawMessage
	if err := json.Unmarshal(raw, &m); err != nil {
		return c.shape(path, "an object")
	}
	fields := jsonFields(t)
	for _, k := range sortedKeys(m) {
		ft, ok := fields[k]
		if !ok {
			if name := foldMatch(fields, k); name != "" {
				return fmt.Errorf("%s: unknown key: keys are case-sensitive (did you mean %q?)", join(path, k), name)
			}
			if !c.strict {
				continue
			}
			return fmt.Errorf("%s: unknown key (known: %s)", join(path, k), strings.Join(sortedKeys(fields), ", "))
		}
		if keysOnly && indirect(ft).Kind() != reflect.Struct {
			continue
		}
		if err := c.value(join(path, k), m[k], ft); err != nil {
			return err
		}
	}
	return nil
}

// foldMatch returns the field of fields that key names without regard to
// case (as encoding/json matches it), "" when none does.
func foldMatch[V any](fields map[string]V, key string) string {
	for _, name := range sortedKeys(fields) {
		if strings.EqualFold(name, key) {
			return name
		}
	}
	return ""
}

// decodeEach decodes the object raw into a new value of the struct t,
// which decodes itself; when that fails, it decodes raw's keys one at a
// time to name the one at fault.
func (c checker) decodeEach(path string, raw json.RawMessage, t reflect.Type) error {
	if json.Unmarshal(raw, reflect.New(t).Interface()) == nil {
		return nil
	}
	var m map[string]json.RawMessage
	if err := json.Unmarshal(raw, &m); err != nil {
		return fmt.Errorf("%s: want an object", c.orTop(path))
	}
	keys := sortedKeys(m)
	for _, k := range keys {
		one, _ := json.Marshal(map[string]json.RawMessage{k: m[k]})
		if err := json.Unmarshal(one, reflect.New(t).Interface()); err != nil {
			return c.pathError(join(path, k), err)
		}
	}
	return c.decodeAt(path, raw, t)
}

// decodeAt decodes raw into a new value of type t and names path in the
// error.
func (c checker) decodeAt(path string, raw json.RawMessage, t reflect.Type) error {
	if err := json.Unmarshal(raw, reflect.New(t).Interface()); err != nil {
		return c.pathError(path, err)
	}
	return nil
}

// pathError names path in err, with the JSON type it wanted instead of
// Go's.
func (c checker) pathError(path string, err error) error {
	var te *json.UnmarshalTypeError
	if errors.As(err, &te) {
		// Inside a struct that decodes itself, the last part of Field is
		// the key at fault (the rest names Go's types).
		parts := strings.Split(te.Field, ".")
		if last := parts[len(parts)-1]; last != "" && path != last && !strings.HasSuffix(path, "."+last) {
			path = join(path, last)
		}
		return fmt.Errorf("%s: want %s, not %s", c.orTop(path), jsonKind(te.Type), te.Value)
	}
	return fmt.Errorf("%s: %w", c.orTop(path), err)
}

// jsonFields returns the JSON keys of the struct t and their types,
// including those of embedded structs, as encoding/json sees them.
func jsonFields(t reflect.Type) map[string]reflect.Type {
	out := map[string]reflect.Type{}
	for _, f := range reflect.VisibleFields(t) {
		if !f.IsExported() || len(f.Index) > 1 && !promoted(t, f) {
			continue
		}
		name, _, _ := strings.Cut(f.Tag.Get("json"), ",")
		if name == "-" {
			continue
		}
		if f.Anonymous && name == "" && indirect(f.Type).Kind() == reflect.Struct {
			continue // its fields are listed themselves
		}
		if name == "" {
			name = f.Name
		}
		out[name] = f.Type
	}
	return out
}

// promoted reports whether the nested field f of t is reached through
// untagged embedded structs only, as encoding/json promotes it.
func promoted(t reflect.Type, f reflect.StructField) bool {
	for _, i := range f.Index[:len(f.Index)-1] {
		e := t.Field(i)
		if !e.Anonymous || e.Tag.Get("json") != "" {
			return false
		}
		t = indirect(e.Type)
	}
	return true
}

// indirect returns the type that t points to, through any pointers.
func indirect(t reflect.Type) reflect.Type {
	for t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	return t
}

// jsonKind names the JSON type that decodes into t.
func jsonKind(t reflect.Type) string {
	switch t.Kind() {
	case reflect.Bool:
		return "true or false"
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64,
		reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
		return "a whole number"
	case reflect.Float32, reflect.Float64:
		return "a number"
	case reflect.String:
		return "text"
	case reflect.Slice, reflect.Array:
		return "a list"
	default:
		return "an object"
	}
}

func join(path, key string) string {
	if path == "" {
		return key
	}
	return path + "." + key
}

func (c checker) orTop(path string) string {
	if path == "" {
		return c.top
	}
	return path
}

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}
