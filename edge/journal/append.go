package journal

import (
	"context"
	"encoding/json"
	"fmt"
	"time"

	"github.com/comptoir/comptoir/edge"
	"github.com/dgraph-io/badger/v4"
	"github.com/google/uuid"
)

var errTxnTooBig = badger.ErrTxnTooBig

// DefaultMaxDataBytes is Config.MaxDataBytes when it is 0: half of the
// 128 KiB of one batch of the MQTT protocol (DESIGN.md), which the agent
// passes from sync/wire.
const DefaultMaxDataBytes = 64 << 10

// appendReq is an operation made ready for the writer: validated, its data
// decoded where a projection needs it and its jobs encoded, all in the
// caller's goroutine so that the writer only assigns seqs and writes.
type appendReq struct {
	op      edge.Operation
	jobs    []jobEntry
	deposit *edge.DepositData
	cancel  string           // deposit id a return.cancelled takes off the shelf
	instore string           // RA id of an instore.received
	command string           // command id of a command.applied
	reason  edge.RefusalCode // reason of a return.refused
	size    int64
	result  edge.Operation
}

type jobEntry struct {
	job edge.PrintJob
	raw []byte
}

// Append assigns op the terminal id, the next seq, and an id (UUID v7) and
// time when it has none, then writes it with jobs and its projections in one
// transaction, synced to disk before Append returns. Concurrent appends share
// one transaction and one sync. It returns STORAGE_FULL for a deposit when
// the disk budget is spent, INVALID for malformed data, TOO_LARGE for data
// over Config.MaxDataBytes, UNAVAILABLE once the
// journal is closed or its disk failed.
func (j *Journal) Append(ctx context.Context, op edge.Operation, jobs ...edge.PrintJob) (edge.Operation, error) {
	a, err := j.prepare(op, jobs)
	if err != nil {
		return edge.Operation{}, fmt.Errorf("journal append: %w", err)
	}
	r := newRequest(ctx)
	r.app = a
	if err := j.send(ctx, r); err != nil {
		if _, ok := err.(*edge.Error); ok {
			return edge.Operation{}, err
		}
		return edge.Operation{}, fmt.Errorf("journal append: %w", err)
	}
	return a.result, nil
}

// AppendAll appends ops in one transaction and one sync, with jobs stored
// beside the last of them: either every op is journalled, with consecutive
// seqs, or none is. It returns the ops as Append does, and the errors of
// Append; TOO_LARGE when they do not fit in one transaction.
func (j *Journal) AppendAll(ctx context.Context, ops []edge.Operation, jobs ...edge.PrintJob) ([]edge.Operation, error) {
	if len(ops) == 0 {
		return nil, nil
	}
	reqs := make([]*appendReq, len(ops))
	for i, op := range ops {
		var js []edge.PrintJob
		if i == len(ops)-1 {
			js = jobs
		}
		a, err := j.prepare(op, js)
		if err != nil {
			return nil, fmt.Errorf("journal append all: op %d: %w", i, err)
		}
		if a.deposit != nil {
			// The disk budget is checked per request on its first op.
			return nil, edge.Errorf(edge.EINVALID, "Deposits are appended one by one.")
		}
		reqs[i] = a
	}
	r := newRequest(ctx)
	r.app, r.more = reqs[0], reqs[1:]
	if err := j.send(ctx, r); err != nil {
		if _, ok := err.(*edge.Error); ok {
			return nil, err
		}
		return nil, fmt.Errorf("journal append all: %w", err)
	}
	out := make([]edge.Operation, len(reqs))
	for i, a := range reqs {
		out[i] = a.result
	}
	return out, nil
}

func (j *Journal) prepare(op edge.Operation, jobs []edge.PrintJob) (*appendReq, error) {
	if op.Type == "" {
		return nil, edge.Errorf(edge.EINVALID, "An operation needs a type.")
	}
	if op.ID == "" {
		op.ID = newID()
	}
	if op.OccurredAt.IsZero() {
		op.OccurredAt = time.Now()
	}
	op.OccurredAt = op.OccurredAt.UTC()
	op.Terminal, op.Seq = j.cfg.Terminal, 0
	if len(op.Data) > j.cfg.MaxDataBytes {
		return nil, edge.Errorf(edge.ETOOLARGE, "The data of the operation is over %d bytes.", j.cfg.MaxDataBytes)
	}
	if len(op.Data) == 0 {
		op.Data = json.RawMessage("{}")
	}
	a := &appendReq{op: op, size: int64(len(op.Data)) + 320}

	// Decoding the data a projection needs also checks that it is JSON.
	switch op.Type {
	case edge.OpReturnDeposited:
		var d edge.DepositData
		if err := json.Unmarshal(op.Data, &d); err != nil {
			return nil, edge.Errorf(edge.EINVALID, "The data of the deposit is malformed.")
		}
		a.deposit = &d
		a.size += 256
	case edge.OpReturnCancelled:
		var d edge.CancelledData
		if err := json.Unmarshal(op.Data, &d); err != nil {
			return nil, edge.Errorf(edge.EINVALID, "The data of the cancellation is malformed.")
		}
		a.cancel = d.DepositID
	case edge.OpInstoreReceived:
		var d edge.InstoreData
		if err := json.Unmarshal(op.Data, &d); err != nil {
			return nil, edge.Errorf(edge.EINVALID, "The data of the in-store return is malformed.")
		}
		a.instore = d.RAID
	case edge.OpCommandApplied:
		var d edge.CommandData
		if err := json.Unmarshal(op.Data, &d); err != nil {
			return nil, edge.Errorf(edge.EINVALID, "The data of the command applied is malformed.")
		}
		a.command = d.CommandID
	case edge.OpReturnRefused:
		var d edge.RefusedData
		if err := json.Unmarshal(op.Data, &d); err != nil {
			return nil, edge.Errorf(edge.EINVALID, "The data of the refusal is malformed.")
		}
		a.reason = d.Reason
	default:
		if !json.Valid(op.Data) {
			return nil, edge.Errorf(edge.EINVALID, "The data of the operation is not valid JSON.")
		}
	}

	for _, job := range jobs {
		job = job.Filled(op)
		raw, err := encodeJob(job)
		if err != nil {
			return nil, fmt.Errorf("encode print job: %w", err)
		}
		a.jobs = append(a.jobs, jobEntry{job, raw})
		a.size += int64(len(raw)) + 128
	}
	return a, nil
}

// writeAppends writes reqs in one transaction and commits it. Deposits over
// the disk budget are refused first, taking no seq. When reqs do not fit in
// one transaction, the tail is returned as carry for the next round. It
// returns the batch written (nil if none) and the requests in it.
func (j *Journal) writeAppends(reqs []*request) (b *batch, written, carry []*request, err error) {
	full := j.cfg.DiskBudgetBytes > 0 && j.usage.Load() > j.cfg.DiskBudgetBytes
	admitted := make([]*request, 0, len(reqs))
	for _, r := range reqs {
		if full && r.app.op.Type == edge.OpReturnDeposited {
			r.done <- edge.Refuse(edge.StorageFull, "%s", edge.RefusalMessage(edge.StorageFull))
			continue
		}
		admitted = append(admitted, r)
	}
	reqs = admitted
	for len(reqs) > 0 {
		b = j.newBatch()
		n, err := b.build(reqs)
		if isTooBig(err) {
			b.txn.Discard()
			if n == 0 {
				reqs[0].done <- edge.Errorf(edge.ETOOLARGE, "The operation is too large to journal.")
				reqs = reqs[1:]
				continue
			}
			carry = append(append([]*request(nil), reqs[n:]...), carry...)
			reqs = reqs[:n]
			continue
		}
		if err != nil {
			b.txn.Discard()
			return nil, reqs, carry, err
		}
		if err := b.txn.Commit(); err != nil {
			return nil, reqs, carry, err
		}
		return b, reqs, carry, nil
	}
	return nil, nil, carry, nil
}

// batch is one transaction of appends being built by the writer.
type batch struct {
	j       *Journal
	txn     *badger.Txn
	seq     uint64 // last seq assigned
	n       int
	types   map[edge.OpType]int64
	reasons map[edge.RefusalCode]int64
	bytes   int64
	shelf   int // parcels put on the shelf less those taken off
}

func (j *Journal) newBatch() *batch {
	return &batch{
		j: j, txn: j.db.NewTransaction(true), seq: j.lastSeq.Load(),
		types: make(map[edge.OpType]int64), reasons: make(map[edge.RefusalCode]int64),
	}
}

// build applies reqs to the transaction and adds the counters. On error it
// returns the index of the request that failed.
func (b *batch) build(reqs []*request) (int, error) {
	for i, r := range reqs {
		if err := b.apply(r.app); err != nil {
			return i, err
		}
		for _, a := range r.more {
			if err := b.apply(a); err != nil {
				return i, err
			}
		}
	}
	// The writer alone changes the counters, so it may read them unlocked.
	for t, d := range b.types {
		if err := b.set(strKey(prefixTypeCt, string(t)), u64(uint64(b.j.byType[t]+d))); err != nil {
			return len(reqs) - 1, err
		}
	}
	for c, d := range b.reasons {
		if err := b.set(strKey(prefixReasonC, string(c)), u64(uint64(b.j.refusals[c]+d))); err != nil {
			return len(reqs) - 1, err
		}
	}
	if err := b.set(keyLastSeq, u64(b.seq)); err != nil {
		return len(reqs) - 1, err
	}
	return len(reqs), nil
}

// apply writes one operation (unacked, so in the outbox), its jobs and its effect on
// the shelf.
func (b *batch) apply(a *appendReq) error {
	op := a.op
	op.Seq = b.seq + 1
	raw, err := json.Marshal(op)
	if err != nil {
		return fmt.Errorf("encode operation: %w", err)
	}
	if err := b.set(seqKey(prefixOp, op.Seq), raw); err != nil {
		return err
	}
	for _, je := range a.jobs {
		if err := b.set(strKey(prefixJob, je.job.ID), je.raw); err != nil {
			return err
		}
		if je.job.State != edge.JobDone {
			if err := b.set(jobQueueKey(je.job.CreatedAt, je.job.ID), nil); err != nil {
				return err
			}
		}
	}
	switch {
	case a.deposit != nil:
		err = b.shelve(op, a.deposit)
	case op.Type == edge.OpReturnCancelled && a.cancel != "":
		err = b.unshelve(prefixDepIdx, a.cancel, op, edge.DepositCancelled)
	case op.Type == edge.OpParcelHandedOver && op.Tracking != "":
		err = b.unshelve(prefixTrkIdx, op.Tracking, op, edge.DepositHandedOver)
	case a.instore != "":
		err = b.set(strKey(prefixInstore, a.instore), u64(op.Seq))
	case a.command != "":
		err = b.set(strKey(prefixCommand, a.command), u64(op.Seq))
	}
	if err != nil {
		return err
	}
	b.seq, b.n = op.Seq, b.n+1
	b.types[op.Type]++
	if a.reason != "" {
		b.reasons[a.reason]++
	}
	a.result = op
	return nil
}

func (b *batch) set(k, v []byte) error {
	b.bytes += int64(len(k) + len(v))
	return b.txn.Set(k, v)
}

// commitMemory publishes a committed and synced batch to readers.
func (j *Journal) commitMemory(b *batch) {
	j.mu.Lock()
	j.pending += b.n
	j.shelf += b.shelf
	for t, d := range b.types {
		j.byType[t] += d
	}
	for c, d := range b.reasons {
		j.refusals[c] += d
	}
	j.mu.Unlock()
	j.lastSeq.Store(b.seq)
}

func newID() string { return uuid.Must(uuid.NewV7()).String() }
