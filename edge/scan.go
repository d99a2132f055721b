package edge

import (
	"context"
	"slices"
	"strings"
	"sync"
	"time"
)

// RefusalRepeatWindow is how long a refusal of one code for the same
// reasons is journalled once: the clerk who scans a refused code, scans it
// again, then tries to deposit it anyway has refused one parcel, not three,
// and the relay point's refusals count parcels.
const RefusalRepeatWindow = 10 * time.Minute

// maxRecentRefusals bounds the refusals remembered for RefusalRepeatWindow;
// past it the oldest are forgotten (and a repeat of one of them counts
// again), so a flood of scans cannot grow the Desk's memory.
const maxRecentRefusals = 256

// ScanRequest is one scan at the counter: the text a HID scanner or the
// keyboard gave, or every symbol found in one camera frame, best first.
type ScanRequest struct {
	Texts    []string
	Operator string
}

// Scan checks the texts of one scan (Check) and returns the verdict on the
// first eligible one, else on the first one, and its index in req.Texts. A
// scan with no eligible code journals return.refused (reason, digest of the
// text, the RA id when the code was verified; no personal data, no token),
// once per code and reasons within RefusalRepeatWindow, so that the cloud
// counts the relay point's refusals by reason. A scan with no text (a frame
// where nothing was read) is UNREADABLE and journals nothing: a camera sends
// several frames a second. When the journal cannot take the refusal, the
// verdict is still answered.
func (d *Desk) Scan(ctx context.Context, req ScanRequest) (Check, int, error) {
	if len(req.Texts) == 0 {
		return Check{Refusals: []RefusalCode{Unreadable}}, -1, nil
	}
	d.mu.Lock()
	rules := d.rules
	d.mu.Unlock()
	var first Check
	for i, text := range req.Texts {
		chk, err := d.check(ctx, rules, text)
		if err != nil {
			return Check{}, -1, err
		}
		if chk.Eligible {
			return chk, i, nil
		}
		if i == 0 {
			first = chk
		}
	}
	d.journalRefusal(ctx, req.Operator, first.Code, first.Refusals)
	return first, 0, nil
}

// refuse journals return.refused (journalRefusal) and returns the refusal
// as an *Error.
func (d *Desk) refuse(ctx context.Context, operator string, code Code, refusals []RefusalCode) error {
	d.journalRefusal(ctx, operator, code, refusals)
	return &Error{Code: string(refusals[0]), Message: RefusalMessage(refusals[0]), Refusals: refusals}
}

// journalRefusal appends return.refused for code unless the same code was
// refused for the same reasons within RefusalRepeatWindow. A failed append
// is not reported: the refusal stands whether or not it was journalled.
func (d *Desk) journalRefusal(ctx context.Context, operator string, code Code, refusals []RefusalCode) {
	now := d.now()
	if !d.recent.first(code.Digest, refusals, now) {
		return
	}
	data := RefusedData{Reason: refusals[0], Digest: code.Digest}
	if len(refusals) > 1 {
		data.Reasons = refusals
	}
	tracking := ""
	if code.Verified {
		tracking = code.Tracking
		if code.RA != nil {
			data.RAID = code.RA.ID
		}
	}
	op := NewOperation(OpReturnRefused, now, operator, tracking, data)
	op.ID = newID()
	if op, err := d.Journal.Append(ctx, op); err == nil {
		d.appended(op)
	} else {
		d.recent.forget(code.Digest, refusals)
	}
}

// recentRefusals remembers the refusals journalled within
// RefusalRepeatWindow, by digest and reasons.
type recentRefusals struct {
	mu   sync.Mutex
	seen map[string]time.Time
}

func refusalKey(digest string, refusals []RefusalCode) string {
	var b strings.Builder
	b.WriteString(digest)
	for _, r := range refusals {
		b.WriteByte(0)
		b.WriteString(string(r))
	}
	return b.String()
}

// first reports whether a refusal of digest for refusals at now is the
// first within the window, and remembers it.
func (r *recentRefusals) first(digest string, refusals []RefusalCode, now time.Time) bool {
	key := refusalKey(digest, refusals)
	r.mu.Lock()
	defer r.mu.Unlock()
	if at, ok := r.seen[key]; ok && now.Sub(at) < RefusalRepeatWindow && !now.Before(at) {
		return false
	}
	if r.seen == nil {
		r.seen = map[string]time.Time{}
	}
	for k, at := range r.seen {
		if now.Sub(at) >= RefusalRepeatWindow || now.Before(at) {
			delete(r.seen, k)
		}
	}
	if len(r.seen) >= maxRecentRefusals {
		keys := make([]string, 0, len(r.seen))
		for k := range r.seen {
			keys = append(keys, k)
		}
		slices.SortFunc(keys, func(a, b string) int { return r.seen[a].Compare(r.seen[b]) })
		for _, k := range keys[:len(keys)-maxRecentRefusals+1] {
			delete(r.seen, k)
		}
	}
	r.seen[key] = now
	return true
}

// forget drops a refusal that could not be journalled, so that the next
// one is tried again.
func (r *recentRefusals) forget(digest string, refusals []RefusalCode) {
	r.mu.Lock()
	defer r.mu.Unlock()
	delete(r.seen, refusalKey(digest, refusals))
}
