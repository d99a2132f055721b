package main

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

// checkJSON checks data against the Go type of v before it is decoded
// into v: every key of every object must name a field of its struct, at any
// depth (encoding/json's DisallowUnknownFields does not reach into a field
// whose type has its own UnmarshalJSON, such as edge.Rules), and every
// value must fit its field. Errors name the JSON path of the value
// ("rules.max_weight_g"), never the Go field. It takes the type alone,
// so fields that other packages add to the config are checked the same way.
func checkJSON(data []byte, v any) error {
	var any any
	if err := json.Unmarshal(data, &any); err != nil {
		var se *json.SyntaxError
		if errors.As(err, &se) {
			line, col := position(data, se.Offset)
			return fmt.Errorf("line %d, column %d: %w", line, col, err)
		}
		return err
	}
	return checkValue("", json.RawMessage(data), reflect.TypeOf(v))
}

// position returns the line and column (from 1) of the byte at offset.
func position(data []byte, offset int64) (line, col int) {
	offset = min(offset, int64(len(data)))
	before := data[:offset]
	line = bytes.Count(before, []byte("\n")) + 1
	return line, len(before) - bytes.LastIndexByte(before, '\n')
}

// checkValue checks raw, found at path, against t.
func checkValue(path string, raw json.RawMessage, t reflect.Type) error {
	t = indirect(t)
	if bytes.Equal(bytes.TrimSpace(raw), []byte("null")) {
		return nil
	}
	custom := reflect.PointerTo(t).Implements(unmarshalerType)
	switch {
	case t.Kind() == reflect.Struct:
		if err := checkKeys(path, raw, t, custom); err != nil {
			return err
		}
		if custom { // its own decoder knows which types it takes
			return decodeEach(path, raw, t)
		}
		return nil
	case custom:
		return decodeAt(path, raw, t)
	case t.Kind() == reflect.Map && t.Key().Kind() == reflect.String:
		var m map[string]json.RawMessage
		if err := json.Unmarshal(raw, &m); err != nil {
			return fmt.Errorf("%s: want an object", orTop(path))
		}
		for _, k := range sortedKeys(m) {
			if err := checkValue(join(path, k), m[k], t.Elem()); err != nil {
				return err
			}
		}
		return nil
	case t.Kind() == reflect.Slice && t.Elem().Kind() != reflect.Uint8:
		var items []json.RawMessage
		if err := json.Unmarshal(raw, &items); err != nil {
			return fmt.Errorf("%s: want a list", orTop(path))
		}
		for i, it := range items {
			if err := checkValue(fmt.Sprintf("%s[%d]", path, i), it, t.Elem()); err != nil {
				return err
			}
		}
		return nil
	default:
		return decodeAt(path, raw, t)
	}
}

// checkKeys refuses the keys of the object raw that name no field of the
// struct t, and checks the value of each key that does (only its keys when
// the struct decodes itself).
func checkKeys(path string, raw json.RawMessage, t reflect.Type, keysOnly bool) error {
	var m map[string]json.RawMessage
	if err := json.Unmarshal(raw, &m); err != nil {
		return fmt.Errorf("%s: want an object", orTop(path))
	}
	fields := jsonFields(t)
	for _, k := range sortedKeys(m) {
		ft, ok := fields[k]
		if !ok {
			return fmt.Errorf("%s: unknown key (known: %s)", join(path, k), strings.Join(sortedKeys(fields), ", "))
		}
		if keysOnly && indirect(ft).Kind() != reflect.Struct {
			continue
		}
		if err := checkValue(join(path, k), m[k], ft); err != nil {
			return err
		}
	}
	return nil
}

// decodeEach decodes the object raw into a new value of the struct t,
// which decodes itself; when that fails, it decodes raw's keys one at a
// time to name the one at fault.
func decodeEach(path string, raw json.RawMessage, t reflect.Type) error {
	if json.Unmarshal(raw, reflect.New(t).Interface()) == nil {
		return nil
	}
	var m map[string]json.RawMessage
	if err := json.Unmarshal(raw, &m); err != nil {
		return fmt.Errorf("%s: want an object", orTop(path))
	}
	keys := sortedKeys(m)
	for _, k := range keys {
		one, _ := json.Marshal(map[string]json.RawMessage{k: m[k]})
		if err := json.Unmarshal(one, reflect.New(t).Interface()); err != nil {
			return pathError(join(path, k), err)
		}
	}
	return decodeAt(path, raw, t)
}

// decodeAt decodes raw into a new value of type t and names path in the
// error.
func decodeAt(path string, raw json.RawMessage, t reflect.Type) error {
	if err := json.Unmarshal(raw, reflect.New(t).Interface()); err != nil {
		return pathError(path, err)
	}
	return nil
}

// pathError names path in err, with the JSON type it wanted instead of
// Go's.
func pathError(path string, err error) error {
	var te *json.UnmarshalTypeError
	if errors.As(err, &te) {
		// Inside a struct that decodes itself, the last part of Field is
		// the key at fault (the rest names Go's types).
		parts := strings.Split(te.Field, ".")
		if last := parts[len(parts)-1]; last != "" && path != last && !strings.HasSuffix(path, "."+last) {
			path = join(path, last)
		}
		return fmt.Errorf("%s: want %s, not %s", orTop(path), jsonKind(te.Type), te.Value)
	}
	return fmt.Errorf("%s: %w", orTop(path), err)
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

func orTop(path string) string {
	if path == "" {
		return "the file"
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
