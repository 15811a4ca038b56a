;; The lab's own wasm kernels for the wasm backend: they run on tfjs-backend-wasm's heap (its memory imported, so a
;; tensor is read and written where tfjs keeps it, no copy) where tfjs's kernels are slow or missing (ops.ts).
;; Compiled by scripts/build-wasm-kernels.mjs into src/core/wasm-kernels-binary.ts in two forms: this one (the
;; threaded SIMD build's shared memory) and one importing a plain memory (`(memory 1)`, the single-threaded
;; builds); test/core/wasm-kernels.test.ts checks the committed bytes are this text's.
;;
;; Addresses are byte offsets into the heap. Every index a kernel follows was checked by the caller (ops.ts):
;; the kernels do no bounds checks of their own beyond wasm's.
;;
;; The GEMM's multiply-adds (f32x4.add of an f32x4.mul) are also compiled as f32x4.relaxed_madd (the FMA forms, used
;; where the engine has relaxed SIMD; scripts/build-wasm-kernels.mjs rewrites exactly those 8).
;;
;; Measured (AMD EPYC Zen 4, Node 20 / V8 11.3, one thread): GELU of [512, 3072] 4.0 ms against 25–45 ms for
;; tfjs-wasm's Erf + Add + Mul; the rel-shifts of 12 heads at T = 512 2.2 / 1.9 ms (rows / columns) against
;; 10.3 / 10.6 ms for the same loops in JS; LayerNorm of [128, 768] / [512, 768] 0.07 / 0.27 ms against 0.93 / 1.7 ms
;; for tf.moments and six more tf ops.
(module
  (import "env" "memory" (memory 1 65536 shared))

  ;; dst[k] = b·x·(1 + erf(a·x)), x = src[k], k < n. GELU: a = 1/√2, b = 1/2; with the constants folded into the
  ;; weights (u·(1 + erf(u))): a = b = 1.
  ;; erf(u) = sign(u)·(1 − P(t)·t·exp(−u²)), t = 1/(1 + p·|u|): Abramowitz & Stegun 7.1.26, as tfjs-backend-cpu
  ;; (|error| ≤ 1.5e-7); exp(y) for y = max(−u², −87) as Cephes expf: y = k·ln 2 + r, exp(r) by a degree-6
  ;; polynomial, 2^k written into the exponent bits (k from the mantissa of y·log2 e + 1.5·2^23).
  ;; The 20 constants are read from a table of v128 splats at `consts` (ops-side: WASM_KERNEL_CONSTANTS, in this
  ;; order): v128.const operands are rebuilt inside the loop on every iteration by V8 (11.3), a table row is one load.
  ;; n need not be a multiple of 4: the last 1–3 values are read and written one by one.
  (func (export "gelu") (param $src i32) (param $dst i32) (param $n i32) (param $a f32) (param $b f32) (param $consts i32)
    (local $i i32) (local $end i32) (local $full i32)
    (local $x v128) (local $u v128) (local $v v128) (local $t v128) (local $p v128) (local $y v128) (local $k v128)
    (local $r v128) (local $e v128) (local $scale v128) (local $va v128) (local $vb v128)
    (local $one v128) (local $erfP v128) (local $a1 v128) (local $a2 v128) (local $a3 v128) (local $a4 v128) (local $a5 v128)
    (local $minArg v128) (local $log2e v128) (local $shifter v128) (local $expBias v128) (local $ln2Hi v128) (local $ln2Lo v128)
    (local $e0 v128) (local $e1 v128) (local $e2 v128) (local $e3 v128) (local $e4 v128) (local $e5 v128) (local $sign v128)
    (local.set $one (v128.load offset=0 (local.get $consts)))         ;; 1
    (local.set $erfP (v128.load offset=16 (local.get $consts)))       ;; p = 0.3275911
    (local.set $a5 (v128.load offset=32 (local.get $consts)))         ;; 1.061405429
    (local.set $a4 (v128.load offset=48 (local.get $consts)))         ;; −1.453152027
    (local.set $a3 (v128.load offset=64 (local.get $consts)))         ;; 1.421413741
    (local.set $a2 (v128.load offset=80 (local.get $consts)))         ;; −0.284496736
    (local.set $a1 (v128.load offset=96 (local.get $consts)))         ;; 0.254829592
    (local.set $minArg (v128.load offset=112 (local.get $consts)))    ;; −87
    (local.set $log2e (v128.load offset=128 (local.get $consts)))     ;; log2 e
    (local.set $shifter (v128.load offset=144 (local.get $consts)))   ;; 1.5·2^23
    (local.set $expBias (v128.load offset=160 (local.get $consts)))   ;; i32 127 − bits(1.5·2^23) = 0xB4C0007F
    (local.set $ln2Hi (v128.load offset=176 (local.get $consts)))     ;; 0.693359375
    (local.set $ln2Lo (v128.load offset=192 (local.get $consts)))     ;; −2.12194440e-4
    (local.set $e5 (v128.load offset=208 (local.get $consts)))        ;; 1.9875691500e-4
    (local.set $e4 (v128.load offset=224 (local.get $consts)))        ;; 1.3981999507e-3
    (local.set $e3 (v128.load offset=240 (local.get $consts)))        ;; 8.3334519073e-3
    (local.set $e2 (v128.load offset=256 (local.get $consts)))        ;; 4.1665795894e-2
    (local.set $e1 (v128.load offset=272 (local.get $consts)))        ;; 1.6666665459e-1
    (local.set $e0 (v128.load offset=288 (local.get $consts)))        ;; 5.0000001201e-1
    (local.set $sign (v128.load offset=304 (local.get $consts)))      ;; i32 0x80000000
    (local.set $va (f32x4.splat (local.get $a)))
    (local.set $vb (f32x4.splat (local.get $b)))
    (local.set $end (i32.shl (local.get $n) (i32.const 2)))
    (block $done
      (loop $next
        (br_if $done (i32.ge_u (local.get $i) (local.get $end)))
        (local.set $full (i32.le_u (i32.add (local.get $i) (i32.const 16)) (local.get $end)))
        (if (local.get $full)
          (then (local.set $x (v128.load (i32.add (local.get $src) (local.get $i)))))
          (else
            (local.set $x (f32x4.splat (f32.load (i32.add (local.get $src) (local.get $i)))))
            (if (i32.lt_u (i32.add (local.get $i) (i32.const 4)) (local.get $end))
              (then (local.set $x (f32x4.replace_lane 1 (local.get $x) (f32.load offset=4 (i32.add (local.get $src) (local.get $i)))))))
            (if (i32.lt_u (i32.add (local.get $i) (i32.const 8)) (local.get $end))
              (then (local.set $x (f32x4.replace_lane 2 (local.get $x) (f32.load offset=8 (i32.add (local.get $src) (local.get $i)))))))))
        ;; u = a·x, v = |u|, t = 1/(1 + p·v)
        (local.set $u (f32x4.mul (local.get $x) (local.get $va)))
        (local.set $v (f32x4.abs (local.get $u)))
        (local.set $t (f32x4.div (local.get $one) (f32x4.add (local.get $one) (f32x4.mul (local.get $v) (local.get $erfP)))))
        ;; p = ((((a5·t + a4)·t + a3)·t + a2)·t + a1)·t
        (local.set $p (f32x4.add (f32x4.mul (local.get $a5) (local.get $t)) (local.get $a4)))
        (local.set $p (f32x4.add (f32x4.mul (local.get $p) (local.get $t)) (local.get $a3)))
        (local.set $p (f32x4.add (f32x4.mul (local.get $p) (local.get $t)) (local.get $a2)))
        (local.set $p (f32x4.add (f32x4.mul (local.get $p) (local.get $t)) (local.get $a1)))
        (local.set $p (f32x4.mul (local.get $p) (local.get $t)))
        ;; y = max(−v², −87) (pmax: a NaN stays NaN); z = y·log2e + 1.5·2^23 rounds k = round(y·log2e) into its mantissa
        (local.set $y (f32x4.pmax (f32x4.neg (f32x4.mul (local.get $v) (local.get $v))) (local.get $minArg)))
        (local.set $e (f32x4.add (f32x4.mul (local.get $y) (local.get $log2e)) (local.get $shifter)))
        (local.set $k (f32x4.sub (local.get $e) (local.get $shifter)))
        ;; 2^k = bits((bits(z) − bits(1.5·2^23) + 127) << 23), k ≥ −126
        (local.set $scale (i32x4.shl (i32x4.add (local.get $e) (local.get $expBias)) (i32.const 23)))
        ;; r = y − k·ln2 (two parts); exp(r) = 1 + r + r²·E(r)
        (local.set $r (f32x4.sub (local.get $y) (f32x4.mul (local.get $k) (local.get $ln2Hi))))
        (local.set $r (f32x4.sub (local.get $r) (f32x4.mul (local.get $k) (local.get $ln2Lo))))
        (local.set $e (f32x4.add (f32x4.mul (local.get $e5) (local.get $r)) (local.get $e4)))
        (local.set $e (f32x4.add (f32x4.mul (local.get $e) (local.get $r)) (local.get $e3)))
        (local.set $e (f32x4.add (f32x4.mul (local.get $e) (local.get $r)) (local.get $e2)))
        (local.set $e (f32x4.add (f32x4.mul (local.get $e) (local.get $r)) (local.get $e1)))
        (local.set $e (f32x4.add (f32x4.mul (local.get $e) (local.get $r)) (local.get $e0)))
        (local.set $e (f32x4.add (f32x4.add (f32x4.mul (f32x4.mul (local.get $e) (local.get $r)) (local.get $r)) (local.get $r)) (local.get $one)))
        (local.set $e (f32x4.mul (local.get $e) (local.get $scale)))
        ;; erf(u) = (1 − p·exp(−u²)) with u's sign; out = b·x·(1 + erf(u))
        (local.set $e (f32x4.sub (local.get $one) (f32x4.mul (local.get $p) (local.get $e))))
        (local.set $e (v128.or (local.get $e) (v128.and (local.get $u) (local.get $sign))))
        (local.set $x (f32x4.mul (f32x4.mul (local.get $x) (local.get $vb)) (f32x4.add (local.get $one) (local.get $e))))
        (if (local.get $full)
          (then (v128.store (i32.add (local.get $dst) (local.get $i)) (local.get $x)))
          (else
            (f32.store (i32.add (local.get $dst) (local.get $i)) (f32x4.extract_lane 0 (local.get $x)))
            (if (i32.lt_u (i32.add (local.get $i) (i32.const 4)) (local.get $end))
              (then (f32.store offset=4 (i32.add (local.get $dst) (local.get $i)) (f32x4.extract_lane 1 (local.get $x)))))
            (if (i32.lt_u (i32.add (local.get $i) (i32.const 8)) (local.get $end))
              (then (f32.store offset=8 (i32.add (local.get $dst) (local.get $i)) (f32x4.extract_lane 2 (local.get $x)))))))
        (local.set $i (i32.add (local.get $i) (i32.const 16)))
        (br $next))))

  ;; Rel-shift, row form: dst[i, j] = src[i·width + column(T−1−i+j)], i, j < T, where cols[m] = column(m)·4 (bytes)
  ;; for the 2T − 1 distances m. dst is [T, T].
  (func (export "relShiftRows") (param $src i32) (param $dst i32) (param $cols i32) (param $t i32) (param $width i32)
    (local $i i32) (local $from i32) (local $map i32) (local $to i32) (local $rowEnd i32)
    (local.set $to (local.get $dst))
    (block $rowsDone
      (loop $row
        (br_if $rowsDone (i32.ge_u (local.get $i) (local.get $t)))
        (local.set $from (i32.add (local.get $src) (i32.shl (i32.mul (local.get $i) (local.get $width)) (i32.const 2))))
        (local.set $map (i32.add (local.get $cols) (i32.shl (i32.sub (i32.sub (local.get $t) (i32.const 1)) (local.get $i)) (i32.const 2))))
        (local.set $rowEnd (i32.add (local.get $to) (i32.shl (local.get $t) (i32.const 2))))
        (block $done
          (loop $col
            (br_if $done (i32.ge_u (local.get $to) (local.get $rowEnd)))
            (f32.store (local.get $to) (f32.load (i32.add (local.get $from) (i32.load (local.get $map)))))
            (local.set $map (i32.add (local.get $map) (i32.const 4)))
            (local.set $to (i32.add (local.get $to) (i32.const 4)))
            (br $col)))
        (local.set $i (i32.add (local.get $i) (i32.const 1)))
        (br $row))))

  ;; Rel-shift, column form: dst[i, j] = src[row(T−1+i−j)·T + j], i, j < T, where rows[m] = row(m)·T·4 (bytes).
  (func (export "relShiftColumns") (param $src i32) (param $dst i32) (param $rows i32) (param $t i32)
    (local $i i32) (local $map i32) (local $to i32) (local $rowEnd i32) (local $col i32)
    (local.set $to (local.get $dst))
    (block $rowsDone
      (loop $row
        (br_if $rowsDone (i32.ge_u (local.get $i) (local.get $t)))
        (local.set $map (i32.add (local.get $rows) (i32.shl (i32.add (i32.sub (local.get $t) (i32.const 1)) (local.get $i)) (i32.const 2))))
        (local.set $col (local.get $src))
        (local.set $rowEnd (i32.add (local.get $to) (i32.shl (local.get $t) (i32.const 2))))
        (block $done
          (loop $c
            (br_if $done (i32.ge_u (local.get $to) (local.get $rowEnd)))
            (f32.store (local.get $to) (f32.load (i32.add (local.get $col) (i32.load (local.get $map)))))
            (local.set $map (i32.sub (local.get $map) (i32.const 4)))
            (local.set $col (i32.add (local.get $col) (i32.const 4)))
            (local.set $to (i32.add (local.get $to) (i32.const 4)))
            (br $c)))
        (local.set $i (i32.add (local.get $i) (i32.const 1)))
        (br $row))))

  ;; LayerNorm over the rows of src [rows, width] (torch.nn.LayerNorm, biased variance, two passes as tf.moments):
  ;; dst[r, c] = (x[r, c] − mean_r)·(1/√(var_r + eps))·gamma[c] + beta[c]. Sums run in 4 lanes, then across them;
  ;; the last width mod 4 values of a row one by one.
  (func (export "layerNorm") (param $src i32) (param $dst i32) (param $rows i32) (param $width i32)
      (param $gamma i32) (param $beta i32) (param $eps f32)
    (local $r i32) (local $row i32) (local $out i32) (local $c i32) (local $vecEnd i32) (local $end i32)
    (local $acc v128) (local $d v128) (local $vmean v128) (local $vscale v128)
    (local $sum f32) (local $mean f32) (local $var f32) (local $scale f32) (local $x f32)
    (local.set $end (i32.shl (local.get $width) (i32.const 2)))
    (local.set $vecEnd (i32.and (local.get $end) (i32.const -16)))
    (block $rowsDone
      (loop $nextRow
        (br_if $rowsDone (i32.ge_u (local.get $r) (local.get $rows)))
        (local.set $row (i32.add (local.get $src) (i32.mul (local.get $r) (local.get $end))))
        (local.set $out (i32.add (local.get $dst) (i32.mul (local.get $r) (local.get $end))))
        ;; mean
        (local.set $acc (v128.const f32x4 0 0 0 0))
        (local.set $c (i32.const 0))
        (block $d1 (loop $l1
          (br_if $d1 (i32.ge_u (local.get $c) (local.get $vecEnd)))
          (local.set $acc (f32x4.add (local.get $acc) (v128.load (i32.add (local.get $row) (local.get $c)))))
          (local.set $c (i32.add (local.get $c) (i32.const 16)))
          (br $l1)))
        (local.set $sum (f32.add (f32.add (f32x4.extract_lane 0 (local.get $acc)) (f32x4.extract_lane 1 (local.get $acc)))
                                 (f32.add (f32x4.extract_lane 2 (local.get $acc)) (f32x4.extract_lane 3 (local.get $acc)))))
        (block $d2 (loop $l2
          (br_if $d2 (i32.ge_u (local.get $c) (local.get $end)))
          (local.set $sum (f32.add (local.get $sum) (f32.load (i32.add (local.get $row) (local.get $c)))))
          (local.set $c (i32.add (local.get $c) (i32.const 4)))
          (br $l2)))
        (local.set $mean (f32.div (local.get $sum) (f32.convert_i32_u (local.get $width))))
        ;; variance
        (local.set $vmean (f32x4.splat (local.get $mean)))
        (local.set $acc (v128.const f32x4 0 0 0 0))
        (local.set $c (i32.const 0))
        (block $d3 (loop $l3
          (br_if $d3 (i32.ge_u (local.get $c) (local.get $vecEnd)))
          (local.set $d (f32x4.sub (v128.load (i32.add (local.get $row) (local.get $c))) (local.get $vmean)))
          (local.set $acc (f32x4.add (local.get $acc) (f32x4.mul (local.get $d) (local.get $d))))
          (local.set $c (i32.add (local.get $c) (i32.const 16)))
          (br $l3)))
        (local.set $sum (f32.add (f32.add (f32x4.extract_lane 0 (local.get $acc)) (f32x4.extract_lane 1 (local.get $acc)))
                                 (f32.add (f32x4.extract_lane 2 (local.get $acc)) (f32x4.extract_lane 3 (local.get $acc)))))
        (block $d4 (loop $l4
          (br_if $d4 (i32.ge_u (local.get $c) (local.get $end)))
          (local.set $x (f32.sub (f32.load (i32.add (local.get $row) (local.get $c))) (local.get $mean)))
          (local.set $sum (f32.add (local.get $sum) (f32.mul (local.get $x) (local.get $x))))
          (local.set $c (i32.add (local.get $c) (i32.const 4)))
          (br $l4)))
        (local.set $var (f32.div (local.get $sum) (f32.convert_i32_u (local.get $width))))
        (local.set $scale (f32.div (f32.const 1) (f32.sqrt (f32.add (local.get $var) (local.get $eps)))))
        ;; normalise, scale, shift
        (local.set $vscale (f32x4.splat (local.get $scale)))
        (local.set $c (i32.const 0))
        (block $d5 (loop $l5
          (br_if $d5 (i32.ge_u (local.get $c) (local.get $vecEnd)))
          (v128.store (i32.add (local.get $out) (local.get $c))
            (f32x4.add
              (f32x4.mul
                (f32x4.mul (f32x4.sub (v128.load (i32.add (local.get $row) (local.get $c))) (local.get $vmean)) (local.get $vscale))
                (v128.load (i32.add (local.get $gamma) (local.get $c))))
              (v128.load (i32.add (local.get $beta) (local.get $c)))))
          (local.set $c (i32.add (local.get $c) (i32.const 16)))
          (br $l5)))
        (block $d6 (loop $l6
          (br_if $d6 (i32.ge_u (local.get $c) (local.get $end)))
          (f32.store (i32.add (local.get $out) (local.get $c))
            (f32.add
              (f32.mul
                (f32.mul (f32.sub (f32.load (i32.add (local.get $row) (local.get $c))) (local.get $mean)) (local.get $scale))
                (f32.load (i32.add (local.get $gamma) (local.get $c))))
              (f32.load (i32.add (local.get $beta) (local.get $c)))))
          (local.set $c (i32.add (local.get $c) (i32.const 4)))
          (br $l6)))
        (local.set $r (i32.add (local.get $r) (i32.const 1)))
        (br $nextRow))))

  ;; C = A·W + bias on panels [$p0, $p1) of a packed weight (linear layers; wasm-kernels.ts packs and splits).
  ;; A [m, k] row-major (rows 4k bytes apart). The weight W [k, n] is packed in panels of 8 columns, each
  ;; (k + 1)·8 floats: the 8 biases (zeros without bias), then W[kk, 8p … 8p + 7] for kk = 0 … k − 1; the last panel's
  ;; columns beyond n are zero. $outs holds, per panel, the byte address of its first output column in row 0 (so
  ;; one call can write the heads' separate tensors); output rows are $ldc bytes apart. The last panel ($np − 1)
  ;; has $lastCols (1 … 8) columns: they go through the 32-byte $scratch (one per thread).
  ;; Blocks of 4 rows × 8 columns in 8 f32x4 accumulators that start at the bias and add a·w in k order, as
  ;; XNNPACK's f32 GEMM does (so the results equal tf.matMul's bit for bit on this build). Tail rows (m % 4) read
  ;; the last row again and are not stored. Needs m ≥ 1, k ≥ 1.
  ;; Measured (AMD EPYC Zen 4, V8 11.3, one thread; scripts/bench-wasm-gemm.ts): 39–42 GFLOP/s on base's dense
  ;; shapes against 25–31 for tfjs-wasm's XNNPACK matmul (52 with the FMA form); packing the weight is what makes it
  ;; fast (23–27 without). 4×8 blocks beat 3×8 (37–40), 5×8 (37) and 6×8 (28: registers spill) here.
  (func (export "gemm") (param $a i32) (param $packed i32) (param $outs i32) (param $ldc i32) (param $m i32) (param $k i32)
    (param $p0 i32) (param $p1 i32) (param $np i32) (param $lastCols i32) (param $scratch i32)
    (local $p i32) (local $i i32) (local $kk i32) (local $kbytes i32) (local $panel i32) (local $w i32) (local $out i32)
    (local $last i32) (local $rows i32) (local $cols i32)
    (local $bias0 v128) (local $bias1 v128) (local $a0 v128) (local $b0 v128) (local $b1 v128)
    (local $c0l v128) (local $c0h v128) (local $row0 i32) (local $c1l v128) (local $c1h v128) (local $row1 i32) (local $c2l v128) (local $c2h v128) (local $row2 i32) (local $c3l v128) (local $c3h v128) (local $row3 i32)
    (local.set $kbytes (i32.shl (local.get $k) (i32.const 2)))
    (local.set $last (i32.mul (i32.sub (local.get $m) (i32.const 1)) (local.get $kbytes))) ;; byte offset of A's last row
    (local.set $p (local.get $p0))
    (block $panelsDone
      (loop $panels
        (br_if $panelsDone (i32.ge_u (local.get $p) (local.get $p1)))
        (local.set $panel (i32.add (local.get $packed) (i32.mul (local.get $p) (i32.shl (i32.add (local.get $k) (i32.const 1)) (i32.const 5)))))
        (local.set $bias0 (v128.load (local.get $panel)))
        (local.set $bias1 (v128.load offset=16 (local.get $panel)))
        (local.set $out (i32.load (i32.add (local.get $outs) (i32.shl (local.get $p) (i32.const 2)))))
        (local.set $cols (select (local.get $lastCols) (i32.const 8) (i32.eq (local.get $p) (i32.sub (local.get $np) (i32.const 1)))))
        (local.set $i (i32.const 0))
        (loop $blocks
          (local.set $rows (i32.sub (local.get $m) (local.get $i)))
          (local.set $row0 (i32.add (local.get $a) (i32.mul (local.get $i) (local.get $kbytes))))
          (local.set $row1 (i32.add (local.get $a) (select (i32.mul (i32.add (local.get $i) (i32.const 1)) (local.get $kbytes)) (local.get $last) (i32.gt_u (local.get $rows) (i32.const 1)))))
          (local.set $row2 (i32.add (local.get $a) (select (i32.mul (i32.add (local.get $i) (i32.const 2)) (local.get $kbytes)) (local.get $last) (i32.gt_u (local.get $rows) (i32.const 2)))))
          (local.set $row3 (i32.add (local.get $a) (select (i32.mul (i32.add (local.get $i) (i32.const 3)) (local.get $kbytes)) (local.get $last) (i32.gt_u (local.get $rows) (i32.const 3)))))
          (local.set $c0l (local.get $bias0)) (local.set $c0h (local.get $bias1))
          (local.set $c1l (local.get $bias0)) (local.set $c1h (local.get $bias1))
          (local.set $c2l (local.get $bias0)) (local.set $c2h (local.get $bias1))
          (local.set $c3l (local.get $bias0)) (local.set $c3h (local.get $bias1))
          (local.set $w (i32.add (local.get $panel) (i32.const 32)))
          (local.set $kk (i32.const 0))
          (loop $ks
            (local.set $b0 (v128.load (local.get $w)))
            (local.set $b1 (v128.load offset=16 (local.get $w)))
            (local.set $a0 (v128.load32_splat (i32.add (local.get $row0) (local.get $kk))))
            (local.set $c0l (f32x4.add (local.get $c0l) (f32x4.mul (local.get $a0) (local.get $b0))))
            (local.set $c0h (f32x4.add (local.get $c0h) (f32x4.mul (local.get $a0) (local.get $b1))))
            (local.set $a0 (v128.load32_splat (i32.add (local.get $row1) (local.get $kk))))
            (local.set $c1l (f32x4.add (local.get $c1l) (f32x4.mul (local.get $a0) (local.get $b0))))
            (local.set $c1h (f32x4.add (local.get $c1h) (f32x4.mul (local.get $a0) (local.get $b1))))
            (local.set $a0 (v128.load32_splat (i32.add (local.get $row2) (local.get $kk))))
            (local.set $c2l (f32x4.add (local.get $c2l) (f32x4.mul (local.get $a0) (local.get $b0))))
            (local.set $c2h (f32x4.add (local.get $c2h) (f32x4.mul (local.get $a0) (local.get $b1))))
            (local.set $a0 (v128.load32_splat (i32.add (local.get $row3) (local.get $kk))))
            (local.set $c3l (f32x4.add (local.get $c3l) (f32x4.mul (local.get $a0) (local.get $b0))))
            (local.set $c3h (f32x4.add (local.get $c3h) (f32x4.mul (local.get $a0) (local.get $b1))))
            (local.set $w (i32.add (local.get $w) (i32.const 32)))
            (local.set $kk (i32.add (local.get $kk) (i32.const 4)))
            (br_if $ks (i32.lt_u (local.get $kk) (local.get $kbytes))))
          (call $store8 (local.get $out) (local.get $c0l) (local.get $c0h) (local.get $cols) (local.get $scratch))
          (local.set $out (i32.add (local.get $out) (local.get $ldc)))
          (if (i32.gt_u (local.get $rows) (i32.const 1)) (then (call $store8 (local.get $out) (local.get $c1l) (local.get $c1h) (local.get $cols) (local.get $scratch))))
          (local.set $out (i32.add (local.get $out) (local.get $ldc)))
          (if (i32.gt_u (local.get $rows) (i32.const 2)) (then (call $store8 (local.get $out) (local.get $c2l) (local.get $c2h) (local.get $cols) (local.get $scratch))))
          (local.set $out (i32.add (local.get $out) (local.get $ldc)))
          (if (i32.gt_u (local.get $rows) (i32.const 3)) (then (call $store8 (local.get $out) (local.get $c3l) (local.get $c3h) (local.get $cols) (local.get $scratch))))
          (local.set $out (i32.add (local.get $out) (local.get $ldc)))
          (local.set $i (i32.add (local.get $i) (i32.const 4)))
          (br_if $blocks (i32.lt_u (local.get $i) (local.get $m))))
        ;; the next panel's output starts again at row 0
        (local.set $p (i32.add (local.get $p) (i32.const 1)))
        (br $panels))))

  ;; 8 floats (lo, hi) to dst, or their first $cols (< 8) through $scratch
  (func $store8 (param $dst i32) (param $lo v128) (param $hi v128) (param $cols i32) (param $scratch i32)
    (local $j i32)
    (if (i32.eq (local.get $cols) (i32.const 8))
      (then
        (v128.store (local.get $dst) (local.get $lo))
        (v128.store offset=16 (local.get $dst) (local.get $hi))
        (return)))
    (v128.store (local.get $scratch) (local.get $lo))
    (v128.store offset=16 (local.get $scratch) (local.get $hi))
    (loop $copy
      (f32.store (i32.add (local.get $dst) (i32.shl (local.get $j) (i32.const 2)))
        (f32.load (i32.add (local.get $scratch) (i32.shl (local.get $j) (i32.const 2)))))
      (local.set $j (i32.add (local.get $j) (i32.const 1)))
      (br_if $copy (i32.lt_u (local.get $j) (local.get $cols)))))
)
