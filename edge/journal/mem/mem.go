// Package mem is a journal in memory: the operations, the shelf and
// deposit projections, the print queue, the staff and the sign-in state of
// edge/journal, without a disk. It passes the same contract suite
// (edge/journal/journaltest) as the Badger journal, so the domain's tests
// run on it where they do not test the disk (as tailscale's ipn/store/mem
// stands in for its file store). Nothing survives the process: it is not
// for a terminal.
package mem

import (
	"cmp"
	"context"
	"encoding/json"
	"slices"
	"sync"
	"time"

	"github.com/comptoir/comptoir/edge"
)

var (
	_ edge.Journal        = (*Journal)(nil)
	_ edge.PrintQueue     = (*Journal)(nil)
	_ edge.StaffStore     = (*Journal)(nil)
	_ edge.SignInStore    = (*Journal)(nil)
	_ edge.CommandJournal = (*Journal)(nil)
)

// MaxDataBytes bounds the data of one operation, as the Badger journal's
// default does (TOO_LARGE above).
const MaxDataBytes = 64 << 10

// Journal is a journal in memory. It is safe for concurrent use.
type Journal struct {
	terminal string

	mu       sync.Mutex
	ops      []edge.Operation              // ops[i].Seq == i+1
	shelf    map[uint64]edge.ShelfParcel   // by seq of the deposit
	deposits map[string]edge.DepositRecord // by deposit id
	lastDep  map[string]string             // tracking to the last deposit id
	instore  map[string]bool               // RA ids received in store
	commands map[string]bool               // command ids applied
	jobs     map[string]edge.PrintJob
	staff    map[string]edge.Staff
	signIn   edge.SignInState
}

// New returns an empty journal of terminal tid.
func New(tid string) *Journal {
	return &Journal{
		terminal: tid, shelf: map[uint64]edge.ShelfParcel{}, deposits: map[string]edge.DepositRecord{},
		lastDep: map[string]string{}, instore: map[string]bool{}, commands: map[string]bool{},
		jobs: map[string]edge.PrintJob{}, staff: map[string]edge.Staff{},
	}
}

// LastSeq returns the seq of the last operation.
func (j *Journal) LastSeq() uint64 {
	j.mu.Lock()
	defer j.mu.Unlock()
	return uint64(len(j.ops))
}

// Append journals op as edge.Journal says: INVALID for an operation
// without a type or with malformed data, TOO_LARGE for data over
// MaxDataBytes.
func (j *Journal) Append(ctx context.Context, op edge.Operation, jobs ...edge.PrintJob) (edge.Operation, error) {
	ops, err := j.AppendAll(ctx, []edge.Operation{op}, jobs...)
	if err != nil {
		return edge.Operation{}, err
	}
	return ops[0], nil
}

// AppendAll journals ops with consecutive seqs, jobs beside the last: all
// or none. Unlike the Badger journal it takes deposits too.
func (j *Journal) AppendAll(ctx context.Context, ops []edge.Operation, jobs ...edge.PrintJob) ([]edge.Operation, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	prepared := make([]edge.Operation, len(ops))
	for i, op := range ops {
		p, err := j.prepare(op)
		if err != nil {
			return nil, err
		}
		prepared[i] = p
	}
	j.mu.Lock()
	defer j.mu.Unlock()
	for i := range prepared {
		prepared[i].Seq = uint64(len(j.ops)) + 1
		j.ops = append(j.ops, prepared[i])
		j.project(prepared[i])
	}
	if len(prepared) > 0 {
		last := prepared[len(prepared)-1]
		for _, job := range jobs {
			job = job.Filled(last)
			job.Data = slices.Clone(job.Data)
			j.jobs[job.ID] = job
		}
	}
	return prepared, nil
}

// prepare checks op and fills what Append assigns, but its seq.
func (j *Journal) prepare(op edge.Operation) (edge.Operation, error) {
	if op.Type == "" {
		return op, edge.Errorf(edge.EINVALID, "An operation needs a type.")
	}
	if len(op.Data) > MaxDataBytes {
		return op, edge.Errorf(edge.ETOOLARGE, "The data of the operation is over %d bytes.", MaxDataBytes)
	}
	if len(op.Data) == 0 {
		op.Data = json.RawMessage("{}")
	}
	// The data a projection reads must decode into its type, as in the
	// Badger journal.
	var data any
	switch op.Type {
	case edge.OpReturnDeposited:
		data = &edge.DepositData{}
	case edge.OpReturnCancelled:
		data = &edge.CancelledData{}
	case edge.OpInstoreReceived:
		data = &edge.InstoreData{}
	case edge.OpCommandApplied:
		data = &edge.CommandData{}
	case edge.OpReturnRefused:
		data = &edge.RefusedData{}
	default:
		data = new(any)
	}
	if err := json.Unmarshal(op.Data, data); err != nil {
		return op, edge.Errorf(edge.EINVALID, "The data of the %s is malformed.", op.Type)
	}
	if op.ID == "" {
		op.ID = edge.NewID()
	}
	if op.OccurredAt.IsZero() {
		op.OccurredAt = time.Now()
	}
	op.OccurredAt = op.OccurredAt.UTC()
	op.Terminal, op.Seq = j.terminal, 0
	op.Data = slices.Clone(op.Data)
	return op, nil
}

// project applies op to the projections; j.mu is held.
func (j *Journal) project(op edge.Operation) {
	switch op.Type {
	case edge.OpReturnDeposited:
		var d edge.DepositData
		_ = json.Unmarshal(op.Data, &d)
		p := edge.ShelfParcel{
			DepositID: op.ID, Seq: op.Seq, Tracking: op.Tracking, RAID: d.RAID, Carrier: d.Carrier,
			Slot: d.ShelfSlot, WeightG: d.WeightG, DepositedAt: op.OccurredAt, Operator: op.Operator,
		}
		j.shelf[op.Seq] = p
		j.deposits[op.ID] = edge.DepositRecord{Parcel: p, State: edge.DepositOnShelf}
		if p.Tracking != "" {
			j.lastDep[p.Tracking] = op.ID
		}
	case edge.OpReturnCancelled:
		var d edge.CancelledData
		_ = json.Unmarshal(op.Data, &d)
		if rec, ok := j.deposits[d.DepositID]; ok && rec.State == edge.DepositOnShelf {
			j.unshelve(rec.Parcel, op, edge.DepositCancelled)
		}
	case edge.OpParcelHandedOver:
		if p, ok := j.onShelf(func(p edge.ShelfParcel) bool { return op.Tracking != "" && p.Tracking == op.Tracking }); ok {
			j.unshelve(p, op, edge.DepositHandedOver)
		}
	case edge.OpInstoreReceived:
		var d edge.InstoreData
		_ = json.Unmarshal(op.Data, &d)
		if d.RAID != "" {
			j.instore[d.RAID] = true
		}
	case edge.OpCommandApplied:
		var d edge.CommandData
		_ = json.Unmarshal(op.Data, &d)
		if d.CommandID != "" {
			j.commands[d.CommandID] = true
		}
	}
}

func (j *Journal) unshelve(p edge.ShelfParcel, op edge.Operation, state edge.DepositState) {
	delete(j.shelf, p.Seq)
	j.deposits[p.DepositID] = edge.DepositRecord{Parcel: p, State: state, ClosedSeq: op.Seq, ClosedAt: op.OccurredAt}
}

// onShelf returns the latest parcel on the shelf that match accepts.
func (j *Journal) onShelf(match func(edge.ShelfParcel) bool) (edge.ShelfParcel, bool) {
	var found edge.ShelfParcel
	ok := false
	for _, p := range j.shelf {
		if match(p) && (!ok || p.Seq > found.Seq) {
			found, ok = p, true
		}
	}
	return found, ok
}

// FindDeposit returns the shelf entry whose RA id is raID (when not empty)
// or whose tracking is tracking.
func (j *Journal) FindDeposit(ctx context.Context, raID, tracking string) (edge.ShelfParcel, bool, error) {
	j.mu.Lock()
	defer j.mu.Unlock()
	if raID != "" {
		if p, ok := j.onShelf(func(p edge.ShelfParcel) bool { return p.RAID == raID }); ok {
			return p, true, nil
		}
	}
	if tracking != "" {
		if p, ok := j.onShelf(func(p edge.ShelfParcel) bool { return p.Tracking == tracking }); ok {
			return p, true, nil
		}
	}
	return edge.ShelfParcel{}, false, ctx.Err()
}

// ShelfCount returns how many parcels are on the shelf.
func (j *Journal) ShelfCount(ctx context.Context) (int, error) {
	j.mu.Lock()
	defer j.mu.Unlock()
	return len(j.shelf), ctx.Err()
}

// ShelfSlots returns the slots taken.
func (j *Journal) ShelfSlots(ctx context.Context) ([]string, error) {
	shelf, err := j.Shelf(ctx)
	slots := []string{}
	for _, p := range shelf {
		if p.Slot != "" {
			slots = append(slots, p.Slot)
		}
	}
	return slots, err
}

// Shelf returns the parcels on the shelf, oldest first.
func (j *Journal) Shelf(ctx context.Context) ([]edge.ShelfParcel, error) {
	j.mu.Lock()
	defer j.mu.Unlock()
	shelf := make([]edge.ShelfParcel, 0, len(j.shelf))
	for _, p := range j.shelf {
		shelf = append(shelf, p)
	}
	slices.SortFunc(shelf, func(a, b edge.ShelfParcel) int { return cmp.Compare(a.Seq, b.Seq) })
	return shelf, ctx.Err()
}

// DepositByID returns the record of the deposit id; ENOTFOUND if none.
func (j *Journal) DepositByID(ctx context.Context, id string) (edge.DepositRecord, error) {
	j.mu.Lock()
	defer j.mu.Unlock()
	rec, ok := j.deposits[id]
	if !ok {
		return rec, edge.Errorf(edge.ENOTFOUND, "No deposit %q.", id)
	}
	return rec, ctx.Err()
}

// DepositByTracking returns the record of the last deposit of tracking.
func (j *Journal) DepositByTracking(ctx context.Context, tracking string) (edge.DepositRecord, bool, error) {
	j.mu.Lock()
	defer j.mu.Unlock()
	id, ok := j.lastDep[tracking]
	if !ok {
		return edge.DepositRecord{}, false, ctx.Err()
	}
	return j.deposits[id], true, ctx.Err()
}

// InstoreReceived reports whether an instore.received of raID is journalled.
func (j *Journal) InstoreReceived(ctx context.Context, raID string) (bool, error) {
	j.mu.Lock()
	defer j.mu.Unlock()
	return j.instore[raID], ctx.Err()
}

// CommandApplied reports whether a command.applied of id is journalled.
func (j *Journal) CommandApplied(ctx context.Context, id string) (bool, error) {
	j.mu.Lock()
	defer j.mu.Unlock()
	return j.commands[id], ctx.Err()
}

// History returns the operations that match q, after q.After, at most
// q.Limit (0: all), in seq order.
func (j *Journal) History(ctx context.Context, q edge.HistoryQuery) (edge.HistoryPage, error) {
	j.mu.Lock()
	defer j.mu.Unlock()
	page := edge.HistoryPage{Operations: []edge.Operation{}}
	for _, op := range j.ops[min(q.After, uint64(len(j.ops))):] {
		if q.Limit > 0 && len(page.Operations) >= q.Limit {
			page.Next = page.Operations[len(page.Operations)-1].Seq
			break
		}
		if q.Match(op) {
			page.Operations = append(page.Operations, op)
		}
	}
	return page, ctx.Err()
}

// PendingJobs returns the jobs not done, oldest first, without their data.
func (j *Journal) PendingJobs(ctx context.Context) ([]edge.PrintJob, error) {
	j.mu.Lock()
	defer j.mu.Unlock()
	jobs := []edge.PrintJob{}
	for _, job := range j.jobs {
		if job.State != edge.JobDone {
			job.Data = nil
			jobs = append(jobs, job)
		}
	}
	slices.SortFunc(jobs, func(a, b edge.PrintJob) int {
		return cmp.Or(a.CreatedAt.Compare(b.CreatedAt), cmp.Compare(a.ID, b.ID))
	})
	return jobs, ctx.Err()
}

// PrintJob returns the job id; ENOTFOUND if none.
func (j *Journal) PrintJob(ctx context.Context, id string) (edge.PrintJob, error) {
	j.mu.Lock()
	defer j.mu.Unlock()
	job, ok := j.jobs[id]
	if !ok {
		return job, edge.Errorf(edge.ENOTFOUND, "Print job %q not found.", id)
	}
	job.Data = slices.Clone(job.Data)
	return job, ctx.Err()
}

// PutPrintJob creates or replaces a job; INVALID without an id.
func (j *Journal) PutPrintJob(ctx context.Context, job edge.PrintJob) error {
	job, err := job.Checked(time.Now())
	if err != nil {
		return err
	}
	job.Data = slices.Clone(job.Data)
	j.mu.Lock()
	defer j.mu.Unlock()
	j.jobs[job.ID] = job
	return ctx.Err()
}

// ListStaff returns every account, by id.
func (j *Journal) ListStaff(ctx context.Context) ([]edge.Staff, error) {
	j.mu.Lock()
	defer j.mu.Unlock()
	staff := []edge.Staff{}
	for _, s := range j.staff {
		staff = append(staff, s)
	}
	slices.SortFunc(staff, func(a, b edge.Staff) int { return cmp.Compare(a.ID, b.ID) })
	return staff, ctx.Err()
}

// PutStaff creates or replaces an account; INVALID without an id or with
// an unknown role.
func (j *Journal) PutStaff(ctx context.Context, s edge.Staff) error {
	if s.ID == "" {
		return edge.Errorf(edge.EINVALID, "A staff account needs an id.")
	}
	if !edge.ValidRole(s.Role) {
		return edge.Errorf(edge.EINVALID, "Unknown staff role %q.", s.Role)
	}
	j.mu.Lock()
	defer j.mu.Unlock()
	j.staff[s.ID] = s
	return ctx.Err()
}

// SignInState returns the sign-in's lockout state.
func (j *Journal) SignInState(ctx context.Context) (edge.SignInState, error) {
	j.mu.Lock()
	defer j.mu.Unlock()
	st := j.signIn
	st.Failures = slices.Clone(st.Failures)
	return st, ctx.Err()
}

// PutSignInState replaces the sign-in's lockout state.
func (j *Journal) PutSignInState(ctx context.Context, st edge.SignInState) error {
	st.Failures = slices.Clone(st.Failures)
	j.mu.Lock()
	defer j.mu.Unlock()
	j.signIn = st
	return ctx.Err()
}
