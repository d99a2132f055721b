package edge

import (
	"errors"
	"fmt"
)

// RefusalCode is a stable reason for refusing a code or a parcel at the counter.
// The values are part of the contract: the API, the UI, events and metrics use
// them verbatim.
type RefusalCode string

// Refusal codes of DESIGN.md.
const (
	Unreadable     RefusalCode = "UNREADABLE"
	UnknownFormat  RefusalCode = "UNKNOWN_FORMAT"
	BadSignature   RefusalCode = "BAD_SIGNATURE"
	UnknownIssuer  RefusalCode = "UNKNOWN_ISSUER"
	Expired        RefusalCode = "EXPIRED"
	NotYetValid    RefusalCode = "NOT_YET_VALID"
	Revoked        RefusalCode = "REVOKED"
	Duplicate      RefusalCode = "DUPLICATE"
	Overweight     RefusalCode = "OVERWEIGHT"
	Oversize       RefusalCode = "OVERSIZE"
	DangerousGoods RefusalCode = "DANGEROUS_GOODS"
	WrongNetwork   RefusalCode = "WRONG_NETWORK"
	ShelfFull      RefusalCode = "SHELF_FULL"
	BadCheckDigit  RefusalCode = "BAD_CHECK_DIGIT"
	// StorageFull refuses new deposits when the journal's disk budget is spent;
	// nothing already journalled is ever dropped to make room.
	StorageFull RefusalCode = "STORAGE_FULL"
)

// Application error codes that are not refusals of a parcel.
const (
	EINVALID      = "INVALID"                // malformed request
	ENOTFOUND     = "NOT_FOUND"              // no such resource
	EUNAUTHORIZED = "UNAUTHORIZED"           // no valid session or key
	EFORBIDDEN    = "FORBIDDEN"              // authenticated but not allowed
	ECONFLICT     = "CONFLICT"               // the state forbids it
	ETOOLARGE     = "TOO_LARGE"              // input above a configured limit
	ELOCKED       = "LOCKED"                 // too many failed attempts
	EINTERNAL     = "INTERNAL"               // a bug or an unavailable dependency
	EUNAVAILABLE  = "UNAVAILABLE"            // a dependency is down; try again
	EREFUSED      = "REFUSED"                // one or more refusal codes, see Error.Refusals
	ERATELIMITED  = "RATE_LIMITED"           // slow down
	EUNSUPPORTED  = "UNSUPPORTED"            // a known thing this build does not handle
	EPRINTER      = "PRINTER_ERROR"          // a print job failed; the deposit is safe
	EMISDIRECTED  = "MISDIRECTED"            // a Host name the terminal does not serve
	EMEDIATYPE    = "UNSUPPORTED_MEDIA_TYPE" // a body in a type the route does not take
	EBADTEXT      = "INVALID_TEXT"           // control or bidi characters in free text
)

// Error is an error a caller can act on: a stable Code and a Message fit to be
// shown to a clerk. Internal details stay in wrapped errors and logs.
type Error struct {
	Code    string
	Message string
	// Refusals lists every refusal code when Code is a refusal or EREFUSED.
	Refusals []RefusalCode
}

func (e *Error) Error() string {
	return fmt.Sprintf("comptoir error: code=%s message=%s", e.Code, e.Message)
}

// Errorf returns an *Error with the given code and a formatted message.
func Errorf(code string, format string, args ...any) *Error {
	return &Error{Code: code, Message: fmt.Sprintf(format, args...)}
}

// Refuse returns an *Error for one refusal code.
func Refuse(code RefusalCode, format string, args ...any) *Error {
	return &Error{Code: string(code), Message: fmt.Sprintf(format, args...), Refusals: []RefusalCode{code}}
}

// ErrorCode returns the code of the first *Error in err's chain, EINTERNAL for
// any other error, and "" for nil.
func ErrorCode(err error) string {
	var e *Error
	if err == nil {
		return ""
	} else if errors.As(err, &e) {
		return e.Code
	}
	return EINTERNAL
}

// ErrorMessage returns the message of the first *Error in err's chain, and a
// generic message for any other error so that internal details are never shown.
func ErrorMessage(err error) string {
	var e *Error
	if err == nil {
		return ""
	} else if errors.As(err, &e) {
		return e.Message
	}
	return "Internal error."
}

// Refusals returns the refusal codes carried by err, or nil.
func Refusals(err error) []RefusalCode {
	var e *Error
	if errors.As(err, &e) {
		return e.Refusals
	}
	return nil
}
