#!/usr/bin/env bash
# Starts vLLM's OpenAI-compatible server for one preset: vllm/presets/$VLLM_PRESET.env.
#
# A preset is KEY=VALUE lines (no quotes, no spaces). A variable already set and non-empty in the
# environment wins over the preset, so one value can be changed without editing the file:
#   VLLM_PRESET=llama3 MAX_MODEL_LEN=8192 vllm/launch.sh
# VLLM_EXTRA_ARGS is appended as is (word-split) for any other flag of `vllm serve`.
# VLLM_DRY_RUN=1 prints the command instead of running it.
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
preset="${VLLM_PRESET:?set VLLM_PRESET to a preset name: $(cd "$here/presets" && ls -- *.env | sed 's/\.env$//' | tr '\n' ' ')}"
preset_file="$here/presets/$preset.env"
if [[ ! -f "$preset_file" ]]; then
  echo "launch.sh: no preset '$preset' (looked for $preset_file)" >&2
  exit 1
fi

while IFS='=' read -r key value || [[ -n "$key" ]]; do
  [[ -z "$key" || "$key" == \#* ]] && continue
  if [[ -z "${!key:-}" ]]; then
    export "$key=$value"
  fi
done <"$preset_file"

: "${MODEL:?preset $preset sets no MODEL}"
: "${TOOL_CALL_PARSER:?preset $preset sets no TOOL_CALL_PARSER}"

args=(
  serve "$MODEL"
  --host 0.0.0.0
  --port "${PORT:-8000}"
  # Tern names the model after the preset: TERN_MODEL=openai-compatible:<preset>.
  --served-model-name "${SERVED_MODEL_NAME:-$preset}"
  --enable-auto-tool-choice
  --tool-call-parser "$TOOL_CALL_PARSER"
  --max-model-len "${MAX_MODEL_LEN:-32768}"
  --gpu-memory-utilization "${GPU_MEMORY_UTILIZATION:-0.90}"
  --tensor-parallel-size "${TENSOR_PARALLEL_SIZE:-1}"
)
if [[ -n "${REASONING_PARSER:-}" ]]; then
  args+=(--reasoning-parser "$REASONING_PARSER")
fi
if [[ -n "${CHAT_TEMPLATE:-}" ]]; then
  args+=(--chat-template "$CHAT_TEMPLATE")
fi
read -r -a extra <<<"${VLLM_EXTRA_ARGS:-}"
args+=("${extra[@]}")

if [[ "${VLLM_DRY_RUN:-}" == 1 ]]; then
  printf '%q ' vllm "${args[@]}"
  printf '\n'
  exit 0
fi

if [[ -n "${CHAT_TEMPLATE:-}" && ! -f "$CHAT_TEMPLATE" ]]; then
  echo "launch.sh: chat template $CHAT_TEMPLATE not found (vLLM's examples/ ships in the vllm/vllm-openai image under /vllm-workspace)" >&2
  exit 1
fi

exec vllm "${args[@]}"
