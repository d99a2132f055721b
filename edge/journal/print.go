package journal

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/comptoir/comptoir/edge"
	"github.com/dgraph-io/badger/v4"
)

// Print jobs live under pj/<id>; a job not done also has an index key
// pq/<created><id>, so PendingJobs reads only the jobs still to print, oldest
// first. Jobs are written with their operation by Append, then updated by the
// print runner through PutPrintJob.
//
// A job is stored as its JSON without the data, a newline, then the data as
// it is: JSON would spell the printer bytes in base64, a third larger and
// slower to encode. JSON never holds a raw newline, so the first one splits.

// encodeJob returns the stored form of job.
func encodeJob(job edge.PrintJob) ([]byte, error) {
	data := job.Data
	job.Data = nil
	meta, err := json.Marshal(job)
	if err != nil {
		return nil, err
	}
	v := make([]byte, 0, len(meta)+1+len(data))
	v = append(append(append(v, meta...), '\n'), data...)
	return v, nil
}

// decodeJob parses the stored form of a job; it copies the data out of v.
func decodeJob(v []byte, job *edge.PrintJob) error {
	if err := decodeJobMeta(v, job); err != nil {
		return err
	}
	job.Data = append([]byte(nil), v[bytes.IndexByte(v, '\n')+1:]...)
	return nil
}

// decodeJobMeta parses the stored form of a job but its data, for readers
// that need only its state and times.
func decodeJobMeta(v []byte, job *edge.PrintJob) error {
	i := bytes.IndexByte(v, '\n')
	if i < 0 {
		return fmt.Errorf("no separator")
	}
	return json.Unmarshal(v[:i], job)
}

// PendingJobs returns the jobs not yet done, oldest first, without their
// data.
func (j *Journal) PendingJobs(ctx context.Context) ([]edge.PrintJob, error) {
	if err := ctxErr(ctx, "pending jobs"); err != nil {
		return nil, err
	}
	jobs := []edge.PrintJob{}
	err := j.db.View(func(txn *badger.Txn) error {
		it := txn.NewIterator(badger.IteratorOptions{Prefix: prefixJobQ})
		defer it.Close()
		for it.Rewind(); it.Valid(); it.Next() {
			id := string(it.Item().Key()[len(prefixJobQ)+8:])
			job, ok, err := getJobMeta(txn, id)
			if err != nil {
				return err
			} else if ok {
				jobs = append(jobs, job)
			}
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("journal pending jobs: %w", err)
	}
	return jobs, nil
}

// PrintJob returns the job with id; ENOTFOUND if there is none.
func (j *Journal) PrintJob(ctx context.Context, id string) (edge.PrintJob, error) {
	if err := ctxErr(ctx, "print job"); err != nil {
		return edge.PrintJob{}, err
	}
	var job edge.PrintJob
	var ok bool
	err := j.db.View(func(txn *badger.Txn) (err error) {
		job, ok, err = getJob(txn, id)
		return err
	})
	if err != nil {
		return edge.PrintJob{}, fmt.Errorf("journal print job: %w", err)
	} else if !ok {
		return edge.PrintJob{}, edge.Errorf(edge.ENOTFOUND, "Print job %q not found.", id)
	}
	return job, nil
}

// PutPrintJob creates or replaces a job, durably. INVALID if it has no id.
func (j *Journal) PutPrintJob(ctx context.Context, job edge.PrintJob) error {
	job, err := job.Checked(time.Now())
	if err != nil {
		return err
	}
	raw, err := encodeJob(job)
	if err != nil {
		return fmt.Errorf("journal put print job: %w", err)
	}
	err = j.write(ctx, true, func() error {
		return j.db.Update(func(txn *badger.Txn) error {
			// The queue key holds the creation time, which a caller may
			// have changed: drop the old one before writing the new.
			old, ok, err := getJob(txn, job.ID)
			if err != nil {
				return err
			}
			if ok {
				if err := txn.Delete(jobQueueKey(old.CreatedAt, old.ID)); err != nil {
					return err
				}
			}
			if err := txn.Set(strKey(prefixJob, job.ID), raw); err != nil {
				return err
			}
			if job.State != edge.JobDone {
				return txn.Set(jobQueueKey(job.CreatedAt, job.ID), nil)
			}
			return nil
		})
	})
	if err != nil {
		return fmt.Errorf("journal put print job: %w", err)
	}
	return nil
}

// getJob reads job id with its data.
func getJob(txn *badger.Txn, id string) (edge.PrintJob, bool, error) {
	return readJob(txn, id, decodeJob)
}

// getJobMeta reads job id without its data.
func getJobMeta(txn *badger.Txn, id string) (edge.PrintJob, bool, error) {
	return readJob(txn, id, decodeJobMeta)
}

func readJob(txn *badger.Txn, id string, decode func([]byte, *edge.PrintJob) error) (edge.PrintJob, bool, error) {
	var job edge.PrintJob
	item, err := txn.Get(strKey(prefixJob, id))
	if errors.Is(err, badger.ErrKeyNotFound) {
		return job, false, nil
	} else if err != nil {
		return job, false, err
	}
	if err := item.Value(func(v []byte) error { return decode(v, &job) }); err != nil {
		return job, false, fmt.Errorf("decode print job %q: %w", id, err)
	}
	return job, true, nil
}
