#!/usr/bin/env bash
# The CMake flags llama.cpp is compiled with here (scripts/setup.sh, scripts/llama_server.sh):
# this CPU's vector extensions, but never -march=native: that also compiles AMX kernels, which
# crash (SIGSEGV in decode) in VMs that report AMX without enabling it.
cmake_args="-DGGML_NATIVE=OFF -DGGML_AVX=ON -DGGML_AVX2=ON -DGGML_FMA=ON -DGGML_F16C=ON"
flags=$(grep -m1 '^flags' /proc/cpuinfo || true)
for pair in avx512f:AVX512 avx512vbmi:AVX512_VBMI avx512_vnni:AVX512_VNNI avx512_bf16:AVX512_BF16 avx_vnni:AVX_VNNI; do
  if [[ " $flags " == *" ${pair%%:*} "* ]]; then cmake_args+=" -DGGML_${pair##*:}=ON"; fi
done
echo "$cmake_args"
