#include "libmailstore/store_error.h"

namespace postern {

const char* describe(StoreError e) {
    switch (e) {
    case StoreError::not_found: return "not found";
    case StoreError::exists: return "already exists";
    case StoreError::invalid: return "invalid name or argument";
    case StoreError::not_empty: return "not empty";
    case StoreError::temporary: return "temporary failure";
    case StoreError::no_space: return "no space left";
    case StoreError::over_quota: return "over quota";
    case StoreError::in_use: return "in use";
    case StoreError::corrupt: return "corrupt data";
    case StoreError::expunged: return "message expunged";
    case StoreError::loop: return "alias loop";
    }
    return "unknown error";
}

}  // namespace postern
