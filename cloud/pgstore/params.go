package pgstore

import (
	"context"
	"encoding/binary"
	"fmt"
	"sync"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgtype"
)

// params are a statement's parameters in PostgreSQL's binary format,
// encoded by the store into one buffer. pgx encodes an array element by
// element through its type map, into a buffer it grows again from 256
// bytes at every statement: the ingest's arrays took 18 % of the
// instance's CPU there (pprof of BenchmarkStoreFleet). The ingest's
// statements of many arrays (writeChain, insertOutbox) take theirs from
// here.
type params struct {
	buf  []byte
	ends []int    // where each parameter ends in buf
	oids []uint32 // each parameter's type, checked against the statement's
}

// paramsPool keeps the buffers of params for the next statements: a
// batch's writes are some 100 KB, grown again at every batch otherwise.
var paramsPool = sync.Pool{New: func() any { return new(params) }}

// newParams returns empty params, to release once sent.
func newParams() *params { return paramsPool.Get().(*params) }

// release empties p and keeps its buffers for newParams.
func (p *params) release() {
	p.buf, p.ends, p.oids = p.buf[:0], p.ends[:0], p.oids[:0]
	paramsPool.Put(p)
}

// Types of the parameters (pg_type).
const (
	oidInt8        = 20
	oidText        = 25
	oidInt4        = 23
	oidTimestamptz = 1184
	oidInt4Array   = 1007
	oidTextArray   = 1009
	oidInt8Array   = 1016
	oidTimeArray   = 1185
	oidJSON        = 114
	oidJSONArray   = 199
)

// pgEpoch is PostgreSQL's time zero: timestamptz counts microseconds from
// it.
var pgEpoch = time.Date(2000, 1, 1, 0, 0, 0, 0, time.UTC).UnixMicro()

func (p *params) end(oid uint32) {
	p.ends, p.oids = append(p.ends, len(p.buf)), append(p.oids, oid)
}

func (p *params) text(s string) {
	p.buf = append(p.buf, s...)
	p.end(oidText)
}

func (p *params) int8(v int64) {
	p.buf = binary.BigEndian.AppendUint64(p.buf, uint64(v))
	p.end(oidInt8)
}

func (p *params) time(t time.Time) {
	p.buf = binary.BigEndian.AppendUint64(p.buf, uint64(t.UnixMicro()-pgEpoch))
	p.end(oidTimestamptz)
}

// array appends a one-dimension array of the elements of s, of type elem,
// each written by put (false: NULL).
func array[T any](p *params, oid, elem uint32, s []T, put func([]byte, T) ([]byte, bool)) {
	if len(s) == 0 { // no dimension
		p.buf = binary.BigEndian.AppendUint32(p.buf, 0)
		p.buf = binary.BigEndian.AppendUint32(p.buf, 0)
		p.buf = binary.BigEndian.AppendUint32(p.buf, elem)
		p.end(oid)
		return
	}
	p.buf = binary.BigEndian.AppendUint32(p.buf, 1)
	flags := len(p.buf) // has NULLs
	p.buf = binary.BigEndian.AppendUint32(p.buf, 0)
	p.buf = binary.BigEndian.AppendUint32(p.buf, elem)
	p.buf = binary.BigEndian.AppendUint32(p.buf, uint32(len(s)))
	p.buf = binary.BigEndian.AppendUint32(p.buf, 1) // lower bound
	for _, v := range s {
		at := len(p.buf)
		p.buf = append(p.buf, 0, 0, 0, 0)
		var ok bool
		if p.buf, ok = put(p.buf, v); !ok {
			p.buf = p.buf[:at+4]
			binary.BigEndian.PutUint32(p.buf[at:], 0xFFFFFFFF) // -1
			binary.BigEndian.PutUint32(p.buf[flags:], 1)
			continue
		}
		binary.BigEndian.PutUint32(p.buf[at:], uint32(len(p.buf)-at-4))
	}
	p.end(oid)
}

func putText(b []byte, s string) ([]byte, bool) { return append(b, s...), true }

func putTextPtr(b []byte, s *string) ([]byte, bool) {
	if s == nil {
		return b, false
	}
	return append(b, *s...), true
}

func putPGText(b []byte, s pgtype.Text) ([]byte, bool) { return append(b, s.String...), s.Valid }

func putInt8(b []byte, v int64) ([]byte, bool) {
	return binary.BigEndian.AppendUint64(b, uint64(v)), true
}

func putPGInt8(b []byte, v pgtype.Int8) ([]byte, bool) {
	return binary.BigEndian.AppendUint64(b, uint64(v.Int64)), v.Valid
}

func putInt4(b []byte, v int32) ([]byte, bool) {
	return binary.BigEndian.AppendUint32(b, uint32(v)), true
}

func putTime(b []byte, t time.Time) ([]byte, bool) {
	return binary.BigEndian.AppendUint64(b, uint64(t.UnixMicro()-pgEpoch)), true
}

func (p *params) texts(s []string)        { array(p, oidTextArray, oidText, s, putText) }
func (p *params) textPtrs(s []*string)    { array(p, oidTextArray, oidText, s, putTextPtr) }
func (p *params) pgTexts(s []pgtype.Text) { array(p, oidTextArray, oidText, s, putPGText) }
func (p *params) int8s(s []int64)         { array(p, oidInt8Array, oidInt8, s, putInt8) }
func (p *params) pgInt8s(s []pgtype.Int8) { array(p, oidInt8Array, oidInt8, s, putPGInt8) }
func (p *params) int4s(s []int32)         { array(p, oidInt4Array, oidInt4, s, putInt4) }
func (p *params) times(s []time.Time)     { array(p, oidTimeArray, oidTimestamptz, s, putTime) }
func (p *params) jsons(s []*string)       { array(p, oidJSONArray, oidJSON, s, putTextPtr) } // json's binary format is its text

// values returns the parameters as pgconn sends them.
func (p *params) values() [][]byte {
	out := make([][]byte, len(p.ends))
	start := 0
	for i, end := range p.ends {
		out[i] = p.buf[start:end:end]
		if out[i] == nil {
			out[i] = []byte{} // an empty text, not NULL
		}
		start = end
	}
	return out
}

// execGeneric runs statement q in tx with the parameters p and its generic
// plan, in one round trip (a pipeline: plan_cache_mode set for it alone),
// q prepared on tx's connection once. PostgreSQL plans a prepared
// statement anew at each execution (a custom plan) as long as the custom
// plans' estimated cost is below the generic plan's, which it is for
// statements of several parts of which most get no rows (their arrays
// empty, folded away by the planner): writeChain and insertOutbox were
// planned at every batch, 7 % of the server's CPU at ingest (perf). Their
// generic plans are shaped to hold whatever the statistics (LATERAL
// lookups in primary keys, inserts from arrays).
func (p *params) execGeneric(ctx context.Context, tx pgx.Tx, q string) error {
	pl := newPipeline()
	if err := pl.add(ctx, tx, q, p, nil); err != nil {
		return err
	}
	return pl.run(ctx, tx)
}

// pipeline is statements run in one round trip with their generic plans,
// as execGeneric runs one: a group's writes (storeGroup).
type pipeline struct {
	b      pgconn.Batch
	mapErr []func(error) error // of each statement queued, nil: its error as is
}

func newPipeline() *pipeline {
	pl := &pipeline{}
	pl.b.ExecParams(`SET LOCAL plan_cache_mode = force_generic_plan`, nil, nil, nil, nil)
	pl.mapErr = append(pl.mapErr, nil)
	return pl
}

// add queues statement q with the parameters p, which the caller releases
// after run; mapErr, if not nil, translates q's error.
func (pl *pipeline) add(ctx context.Context, tx pgx.Tx, q string, p *params, mapErr func(error) error) error {
	sd, err := tx.Conn().Prepare(ctx, q, q)
	if err != nil {
		return err
	}
	if len(sd.ParamOIDs) != len(p.oids) {
		return fmt.Errorf("pgstore: %d parameters for a statement of %d", len(p.oids), len(sd.ParamOIDs))
	}
	for i, oid := range sd.ParamOIDs {
		if oid != p.oids[i] {
			return fmt.Errorf("pgstore: parameter %d of type %d for one of type %d", i+1, p.oids[i], oid)
		}
	}
	pl.b.ExecPrepared(sd.Name, p.values(), []int16{pgtype.BinaryFormatCode}, nil)
	pl.mapErr = append(pl.mapErr, mapErr)
	return nil
}

// run sends the statements queued and returns the first error, translated
// by the mapErr of its statement. The server skips the statements after a
// failed one.
func (pl *pipeline) run(ctx context.Context, tx pgx.Tx) error {
	pl.b.ExecParams(`RESET plan_cache_mode`, nil, nil, nil, nil)
	pl.mapErr = append(pl.mapErr, nil)
	results, err := tx.Conn().PgConn().ExecBatch(ctx, &pl.b).ReadAll()
	at := len(results) // the statement that failed
	for i, r := range results {
		if r.Err != nil {
			err, at = r.Err, i
			break
		}
	}
	if err != nil && at < len(pl.mapErr) && pl.mapErr[at] != nil {
		return pl.mapErr[at](err)
	}
	return err
}
