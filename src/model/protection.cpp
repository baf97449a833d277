#include "model/protection.hpp"

namespace sluice::model {

const char* refusal_name(refusal r) {
    switch (r) {
#define SLUICE_X(name)  \
    case refusal::name: \
        return #name;
        SLUICE_REFUSALS(SLUICE_X)
#undef SLUICE_X
        default:
            return "unknown";
    }
}

}  // namespace sluice::model
