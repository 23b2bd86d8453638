// Umbrella header: the whole public API.
#pragma once
#include "xk/device.h"
#include "xk/tensor.h"
#include "xk/dtype.h"
#include "xk/error.h"
#include "xk/formats.h"
#include "xk/ops.h"
#include "xk/registry.h"
#include "xk/variant.h"
