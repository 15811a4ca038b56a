
# ---------------------------------------------------------------------------------------------------------------
# The recomputation. Everything below is the same in every script DeBERTa Lab writes; only LAB (above) differs.
#
# How: the model is loaded with transformers (DebertaV2Model for model_type "deberta-v2", i.e. DeBERTa v2/v3,
# DebertaModel for "deberta" (v1), BertModel for "bert"). Its forward is then re-run layer by layer with the
# transformers modules' own weights and sub-modules (embeddings, projections, SelfOutput, Intermediate, Output),
# re-implementing only DisentangledSelfAttention.forward / disentangled_attention_bias so that each term
# (c2c, c2p, p2c) can be read and, when the lab view had an ablation, left out of the sum. Without an ablation
# the script first checks that this re-implementation gives transformers' own hidden states and attention
# probabilities (model(..., output_attentions=True, output_hidden_states=True)).
#
# Scaling (as transformers and the lab do it): s = sqrt(d · (1 + number of relative terms)), d = head size, and
# each of c2c, c2p, p2c (and the lab's p2p) is divided by s:
#   c2c[i, j] = Q_i·K_j / s
#   c2p[i, j] = Q_i·Kr[c(i, j)] / s,  c(i, j) = clamp(relative_pos[i, j] + span, 0, 2·span − 1)
#   p2c[i, j] = K_j·Qr[clamp(−relative_pos[j, i] + span, 0, 2·span − 1)] / s
#   p2p[i, j] = Qr[c(i, j)]·Kr[c(i, j)] / s (a lab toggle; released models and transformers have no p2p)
# An ablated term is left out of the sum but still counted in s (the lab removes terms at inference time).
# The Enhanced Mask Decoder follows the official recipe (microsoft/DeBERTa, EnhancedMaskDecoder.emd_context_layer):
# h = input of the last layer, z = position_embeddings[0:T] + h, the last layer run twice with keys/values from h
# and queries from z (then from its own output), the LM head on the result.
# Shapes: T tokens, NH heads, D head size, A = NH·D, L layers, V vocabulary.

import argparse
import hashlib
import json
import math
import os
import sys

try:
    import torch
    import transformers
except ImportError as error:  # pragma: no cover - environment problem, said plainly
    sys.exit(f"this script needs PyTorch and transformers (pip install torch transformers safetensors sentencepiece): {error}")

torch.set_grad_enabled(False)
# The base models do not use the checkpoint's MLM head (lm_predictions.*): this script reads it itself (Lab.lm_head),
# so transformers' load report about those keys and its progress bars are left out.
transformers.logging.set_verbosity_error()
transformers.logging.disable_progress_bar()
TERMS = ["c2c", "c2p", "p2c", "p2p"]


def model_folder(args):
    """The model folder: --model, else LAB's path, else the Hub repo (downloaded into the Hugging Face cache)."""
    source = LAB["model"]["source"]
    if args.model:
        return args.model
    if source["kind"] == "hub":
        from huggingface_hub import snapshot_download

        return snapshot_download(source["repo"], revision=source.get("revision"))
    here = os.path.dirname(os.path.abspath(__file__))
    path = source["path"] if os.path.isabs(source["path"]) else os.path.join(here, source["path"])
    if not os.path.isdir(path):
        sys.exit(f"model folder {path} not found: {source.get('note', '')} Pass --model DIR.")
    return path


def weights_file(folder):
    for name in ("model.safetensors", "pytorch_model.bin"):
        if os.path.isfile(os.path.join(folder, name)):
            return os.path.join(folder, name)
    sys.exit(f"no model.safetensors or pytorch_model.bin in {folder}")


def state_dict(path):
    if path.endswith(".safetensors"):
        from safetensors.torch import load_file

        return load_file(path)
    return torch.load(path, map_location="cpu", weights_only=True)


def sha256(path):
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


class Lab:
    """The model as transformers loads it, plus the tensors transformers' base model drops (MLM head, EMD positions)."""

    def __init__(self, folder):
        config = transformers.AutoConfig.from_pretrained(folder)
        self.kind = config.model_type
        classes = {"deberta-v2": transformers.DebertaV2Model, "deberta": transformers.DebertaModel, "bert": transformers.BertModel}
        if self.kind not in classes:
            sys.exit(f"model_type {self.kind!r} is not DeBERTa v1/v2/v3 or BERT")
        # the lab's BERT models may have no token-type table (type_vocab_size 0), which BertEmbeddings always reads:
        # give it one row of zeros, which adds nothing
        no_types = self.kind == "bert" and config.type_vocab_size == 0
        if no_types:
            config.type_vocab_size = 1
        self.model = classes[self.kind].from_pretrained(folder, config=config).eval()
        if no_types:
            self.model.embeddings.token_type_embeddings.weight.zero_()
        self.config = self.model.config
        path = weights_file(folder)
        expected = LAB["model"].get("weightsSha256")
        if expected:
            actual = sha256(path)
            if actual != expected:
                sys.exit(f"{path} is not the file the lab used: sha256 {actual}, the lab's {expected}")
        self.weights = state_dict(path)

    def tensor(self, *names):
        for name in names:
            for prefix in ("", "deberta.", "bert."):
                if prefix + name in self.weights:
                    return self.weights[prefix + name].float()
        return None

    # --- one attention block, re-implemented from transformers' code with the module's own weights -----------

    def attention(self, att, query_in, kv_in, relative_pos, rel_emb, include, p2p):
        """Terms [NH, T, T] each, scores, probabilities, and the context [T, A]. include: per head, term → bool."""
        NH = att.num_attention_heads
        T = kv_in.shape[0]
        heads = lambda x: x.view(x.shape[0], NH, -1).permute(1, 0, 2)  # [T, A] → [NH, T, D]
        terms = {}
        if self.kind == "bert":
            q, k, v = heads(att.query(query_in)), heads(att.key(kv_in)), heads(att.value(kv_in))
            terms["c2c"] = q @ k.transpose(-1, -2) / math.sqrt(q.shape[-1])
        elif self.kind == "deberta-v2":
            q, k, v = heads(att.query_proj(query_in)), heads(att.key_proj(kv_in)), heads(att.value_proj(kv_in))
            pos = att.pos_att_type
            factor = 1 + ("c2p" in pos) + ("p2c" in pos) + (1 if p2p else 0)
            s = torch.sqrt(torch.tensor(q.shape[-1], dtype=torch.float) * factor)
            terms["c2c"] = q @ (k.transpose(-1, -2) / s)
            if att.relative_attention:
                span = att.pos_ebd_size
                R = rel_emb[0 : 2 * span]
                if att.share_att_key:
                    Kr, Qr = heads(att.key_proj(R)), heads(att.query_proj(R))
                else:
                    Kr = heads(att.pos_key_proj(R)) if "c2p" in pos else None
                    Qr = heads(att.pos_query_proj(R)) if "p2c" in pos else None
                row = torch.clamp(relative_pos + span, 0, 2 * span - 1)  # [T, T]
                if "c2p" in pos:
                    terms["c2p"] = torch.gather(q @ Kr.transpose(-1, -2), -1, row.expand(NH, T, T)) / s
                if "p2c" in pos:
                    back = torch.clamp(-relative_pos + span, 0, 2 * span - 1)
                    terms["p2c"] = torch.gather(k @ Qr.transpose(-1, -2), -1, back.expand(NH, T, T)).transpose(-1, -2) / s
                if p2p:
                    terms["p2p"] = (Qr[:, row, :] * Kr[:, row, :]).sum(-1) / s
        else:  # DeBERTa v1: interleaved in_proj, q_bias / v_bias, the query scaled first
            w = att.in_proj.weight.chunk(NH * 3, dim=0)
            Wq, Wk, Wv = (torch.cat([w[i * 3 + part] for i in range(NH)], dim=0) for part in range(3))
            q = heads(query_in @ Wq.t() + att.q_bias)
            k = heads(kv_in @ Wk.t())
            v = heads(kv_in @ Wv.t() + att.v_bias)
            pos = att.pos_att_type
            factor = 1 + len(pos) + (1 if p2p else 0)
            s = torch.sqrt(torch.tensor(q.shape[-1], dtype=torch.float) * factor)
            q = q / s
            terms["c2c"] = q @ k.transpose(-1, -2)
            if att.relative_attention:
                span = min(T, att.max_relative_positions)
                k_max = att.max_relative_positions
                R = rel_emb[k_max - span : k_max + span]
                row = torch.clamp(relative_pos + span, 0, 2 * span - 1)
                Kr = heads(att.pos_proj(R)) if "c2p" in pos else None
                Qr = heads(att.pos_q_proj(R)) if "p2c" in pos else None
                if "c2p" in pos:
                    terms["c2p"] = torch.gather(q @ Kr.transpose(-1, -2), -1, row.expand(NH, T, T))
                if "p2c" in pos:
                    back = torch.clamp(-relative_pos + span, 0, 2 * span - 1)
                    terms["p2c"] = torch.gather(k @ (Qr / s).transpose(-1, -2), -1, back.expand(NH, T, T)).transpose(-1, -2)
                if p2p:
                    terms["p2p"] = (Qr[:, row, :] * Kr[:, row, :]).sum(-1) / s
        scores = torch.zeros_like(terms["c2c"])
        for h in range(NH):
            for term, value in terms.items():
                if include[h].get(term, True):
                    scores[h] += value[h]
        probs = torch.softmax(scores, dim=-1)
        context = (probs @ v).permute(1, 0, 2).reshape(T, -1)  # [T, A]
        return terms, scores, probs, context

    def layer(self, layer, query_in, kv_in, relative_pos, rel_emb, include, p2p):
        """One encoder layer (the attention's residual is the query state, as in the EMD)."""
        block = layer.attention
        terms, scores, probs, context = self.attention(block.self, query_in, kv_in, relative_pos, rel_emb, include, p2p)
        attended = block.output(context[None], query_in[None])
        out = layer.output(layer.intermediate(attended), attended)[0]
        return out, {**terms, "scores": scores, "probs": probs}

    def relative(self, T):
        """relative_pos [T, T] (log buckets for v3, i − j for v1) and the relative embeddings the layers read."""
        encoder = self.model.encoder
        if self.kind == "bert" or not getattr(encoder, "relative_attention", False):
            return None, None
        dummy = torch.zeros(1, T, self.config.hidden_size)
        relative_pos = encoder.get_rel_pos(dummy)
        return relative_pos.reshape(T, T).long(), encoder.get_rel_embedding()

    def forward(self, ids, disabled=(), scope=None, p2p=False):
        """Every layer's components; `scope`: None (every layer and head), {"layer": l} or {"layer": l, "head": h}."""
        input_ids = torch.tensor([ids])
        T = len(ids)
        NH = self.config.num_attention_heads
        h = self.model.embeddings(input_ids=input_ids)[0]  # [T, H]
        relative_pos, rel_emb = self.relative(T)
        states, layers = [h], []
        for index, layer in enumerate(self.model.encoder.layer):
            include = []
            for head in range(NH):
                hit = scope is None or (scope["layer"] == index and scope.get("head", head) == head)
                include.append({term: not (hit and term in disabled) for term in TERMS})
            out, parts = self.layer(layer, h, h, relative_pos, rel_emb, include, p2p)
            conv = getattr(self.model.encoder, "conv", None)
            if index == 0 and conv is not None:
                out = conv(states[0][None], out[None], torch.ones(1, T, dtype=torch.long))[0]
            layers.append(parts)
            states.append(out)
            h = out
        return states, layers

    def check_against_transformers(self, ids):
        """The re-implementation must give transformers' own forward (no ablation, no p2p)."""
        states, layers = self.forward(ids)
        output = self.model(torch.tensor([ids]), output_attentions=True, output_hidden_states=True)
        worst = 0.0
        for mine, theirs in zip(states, output.hidden_states):
            worst = max(worst, (mine - theirs[0]).abs().max().item())
        for mine, theirs in zip(layers, output.attentions):
            worst = max(worst, (mine["probs"] - theirs[0]).abs().max().item())
        print(f"re-implemented forward vs transformers' own forward: max abs diff {worst:.3g}")
        if worst > 1e-4:
            sys.exit("the re-implementation does not reproduce transformers' forward: this script cannot be trusted here")

    # --- MLM head and Enhanced Mask Decoder ------------------------------------------------------------------

    def lm_head(self, x):
        """LayerNorm(act(dense(x))) · word_embeddingsᵀ + bias (official lm_predictions.lm_head or HF cls.predictions)."""
        dense_w = self.tensor("lm_predictions.lm_head.dense.weight", "cls.predictions.transform.dense.weight")
        if dense_w is None:
            sys.exit("this checkpoint has no MLM head (lm_predictions.lm_head.* or cls.predictions.*)")
        dense_b = self.tensor("lm_predictions.lm_head.dense.bias", "cls.predictions.transform.dense.bias")
        norm_w = self.tensor("lm_predictions.lm_head.LayerNorm.weight", "cls.predictions.transform.LayerNorm.weight")
        norm_b = self.tensor("lm_predictions.lm_head.LayerNorm.bias", "cls.predictions.transform.LayerNorm.bias")
        bias = self.tensor("lm_predictions.lm_head.bias", "cls.predictions.bias", "cls.predictions.decoder.bias")
        act = transformers.activations.ACT2FN[self.config.hidden_act]
        y = act(x @ dense_w.t() + dense_b)
        y = torch.nn.functional.layer_norm(y, (y.shape[-1],), norm_w, norm_b, self.config.layer_norm_eps)
        return y @ self.model.embeddings.word_embeddings.weight.t() + bias

    def emd(self, ids, states):
        """Official EnhancedMaskDecoder.emd_context_layer: the last layer twice, queries from positions + h."""
        T = len(ids)
        h = states[-2]
        if getattr(self.config, "position_biased_input", True):
            return states[-1]
        positions = self.tensor("embeddings.position_embeddings.weight")
        if positions is None:
            sys.exit("this checkpoint has no embeddings.position_embeddings.weight, which the EMD needs")
        relative_pos, rel_emb = self.relative(T)
        include = [dict.fromkeys(TERMS, True)] * self.config.num_attention_heads
        last = self.model.encoder.layer[-1]
        query = positions[:T] + h
        for _ in range(2):
            query, _parts = self.layer(last, query, h, relative_pos, rel_emb, include, False)
        return query


class Tokenizer:
    """tokenizer.json through transformers (tokenizers), else AutoTokenizer; for a SentencePiece folder it cannot convert (transformers 5 needs protobuf for
    that), DebertaV2Tokenizer's own rule with the sentencepiece library: split on the special tokens, encode each
    piece on its own, [CLS] … [SEP]."""

    SPECIAL = ("[PAD]", "[CLS]", "[SEP]", "[UNK]", "[MASK]")

    def __init__(self, folder):
        self.hf = self.sp = None
        try:
            # tokenizer.json is what the lab reads when a folder has one; AutoTokenizer may pick a class by
            # model_type (DebertaTokenizer: GPT-2 BPE) that reads it differently
            if os.path.isfile(os.path.join(folder, "tokenizer.json")):
                self.hf = transformers.PreTrainedTokenizerFast(tokenizer_file=os.path.join(folder, "tokenizer.json"))
            else:
                self.hf = transformers.AutoTokenizer.from_pretrained(folder)
        except Exception as error:
            path = os.path.join(folder, "spm.model")
            if not os.path.isfile(path):
                raise
            import sentencepiece

            print(f"(AutoTokenizer failed: {str(error).splitlines()[0][:100]}; using sentencepiece on spm.model)")
            self.sp = sentencepiece.SentencePieceProcessor(model_file=path)
            added_path = os.path.join(folder, "added_tokens.json")
            self.added = json.load(open(added_path)) if os.path.isfile(added_path) else {}

    def id_of(self, token):
        if self.hf is not None:
            return self.hf.convert_tokens_to_ids(token)
        return self.added[token] if token in self.added else self.sp.piece_to_id(token)

    def size(self):
        return len(self.hf) if self.hf is not None else self.sp.get_piece_size() + len(self.added)

    def encode(self, text):
        if self.hf is not None:
            return self.hf(text)["input_ids"]
        import re

        ids = [self.id_of("[CLS]")]
        for piece in re.split("(" + "|".join(re.escape(t) for t in self.SPECIAL) + ")", text):
            if piece in self.SPECIAL:
                ids.append(self.id_of(piece))
            elif piece.strip():
                ids.extend(self.sp.encode(piece))
        return ids + [self.id_of("[SEP]")]


# --- the lab's views ---------------------------------------------------------------------------------------------


def pick_head(matrix, head):
    """[NH, T, T] → one head or the mean over heads."""
    return matrix.mean(0) if head == "mean" else matrix[head]


def shares(layers, terms, disabled, scope):
    """Each term's share of Σ|term| per layer × head (ablated terms count 0), values[(l·NH + h)·terms + t]."""
    out = []
    for index, parts in enumerate(layers):
        NH = parts["c2c"].shape[0]
        for h in range(NH):
            hit = scope is None or (scope["layer"] == index and scope.get("head", h) == h)
            sums = [0.0 if (hit and term in disabled) or term not in parts else parts[term][h].double().abs().sum().item() for term in terms]
            total = sum(sums)
            out.extend(x / total if total > 0 else 0.0 for x in sums)
    return out


def head_summaries(layers):
    """Per head (layer · NH + head): entropy (nats) and mean attended distance |i − j|, means over query rows."""
    entropy, distance = [], []
    for parts in layers:
        p = parts["probs"].double()  # [NH, T, T]
        T = p.shape[-1]
        gap = (torch.arange(T)[:, None] - torch.arange(T)[None, :]).abs().double()
        plogp = torch.where(p > 0, p * torch.log(p), torch.zeros_like(p))
        entropy.extend((-plogp.sum(-1)).mean(-1).tolist())
        distance.extend((p * gap).sum(-1).mean(-1).tolist())
    return entropy, distance


def by_distance(matrix):
    """[NH, T, T] → [NH, 2T − 1]: mean over the pairs with i − j = δ, δ = −(T − 1) … T − 1."""
    NH, T, _ = matrix.shape
    delta = torch.arange(T)[:, None] - torch.arange(T)[None, :]
    return torch.stack([matrix[:, delta == d].double().mean(-1) for d in range(-(T - 1), T)], dim=-1)


def top_k(logits, k, exclude, candidates):
    """The lab's ranking: softmax over the whole vocabulary, top k among the tokenizer's ids minus specials."""
    probs = torch.softmax(logits.double(), dim=-1)
    ranked = [i for i in torch.argsort(logits, descending=True, stable=True).tolist() if i < candidates and i not in exclude]
    return [(i, probs[i].item()) for i in ranked[:k]]


def recompute(lab, tokenizer, ids, view):
    """The view's numbers as transformers + this script compute them, keyed like LAB['expected']."""
    kind = view["kind"]
    disabled = set(view.get("disabledTerms", []))
    scope = view.get("scope")
    p2p = view.get("p2p", False)
    if kind in ("attention", "rows", "shares", "model-view", "distance-profile"):
        states, layers = lab.forward(ids, disabled, scope, p2p)
    if kind == "attention":
        parts = layers[view["layer"]]
        return {"matrix": pick_head(parts[view["matrix"]], view["head"]).flatten().tolist()}
    if kind == "rows":
        parts = layers[view["layer"]]
        out = {}
        for name in view["names"]:
            matrix = pick_head(parts["probs" if name == "probabilities" else name], view["head"])[view["rows"]]  # [rows, T]
            out[name] = (matrix.sum(0) if view["mode"] == "sum" else matrix.mean(0)).tolist()
        return out
    if kind == "shares":
        return {"shares": shares(layers, view["terms"], disabled, scope)}
    if kind == "model-view":
        entropy, distance = head_summaries(layers)
        return {"shares": shares(layers, view["terms"], disabled, None), "entropy": entropy, "distance": distance}
    if kind == "distance-profile":
        parts = layers[view["layer"]]
        out = {}
        for name in ["probs"] + view["terms"]:
            rows = by_distance(parts[name])
            rows = torch.cat([rows, rows.mean(0, keepdim=True)])  # the last row: mean over heads
            out["probability" if name == "probs" else name] = rows.flatten().tolist()
        return out
    if kind == "relative-positions":
        T = len(ids)
        relative_pos, _ = lab.relative(T)
        att = lab.model.encoder.layer[0].attention.self
        span = att.pos_ebd_size if lab.kind == "deberta-v2" else att.max_relative_positions
        ids_of = torch.clamp(relative_pos + span, 0, 2 * span - 1) - span  # the relative id each (i, j) reads
        delta = torch.arange(T)[:, None] - torch.arange(T)[None, :]
        return {"delta": delta.flatten().tolist(), "buckets": ids_of.flatten().tolist()}
    if kind == "relative-curve":
        distances = torch.tensor(view["distances"])
        if lab.kind == "deberta-v2" and lab.config.position_buckets > 0:
            from transformers.models.deberta_v2.modeling_deberta_v2 import make_log_bucket_position

            span = lab.model.encoder.layer[0].attention.self.pos_ebd_size
            rel = make_log_bucket_position(distances, lab.config.position_buckets, lab.model.encoder.max_relative_positions)
        else:
            span = lab.model.encoder.layer[0].attention.self.max_relative_positions
            rel = distances
        out = {"buckets": (torch.clamp(rel + span, 0, 2 * span - 1) - span).tolist()}
        if view.get("clipK"):
            k = view["clipK"]  # the paper's clipping control: clamp(δ, −k, k − 1)
            out["clipping"] = torch.clamp(distances, -k, k - 1).tolist()
        return out
    if kind == "pair-comparison":
        ids_b = tokenizer.encode(view["compareText"])
        if ids_b != view["compareIds"]:
            sys.exit(f"token ids of the second sentence differ from the lab's:\n  transformers {ids_b}\n  lab          {view['compareIds']}")
        _s, layers_a = lab.forward(ids)
        _s, layers_b = lab.forward(ids_b)
        out = {"c2pA": [], "c2pB": [], "p2cA": [], "p2cB": []}
        for pair in view["pairs"]:
            (i, j), (k, l) = pair["a"], pair["b"]
            for term in ("c2p", "p2c"):
                out[term + "A"].append(layers_a[0][term][0, i, j].item() if term in layers_a[0] else 0.0)
                out[term + "B"].append(layers_b[0][term][0, k, l].item() if term in layers_b[0] else 0.0)
        return out
    if kind == "decoding":
        states, _layers = lab.forward(ids)
        final = {"plain": states[-1], "emd": lab.emd(ids, states)}
        exclude = {tokenizer.id_of(t) for t in ("[CLS]", "[SEP]", "[PAD]", "[MASK]")}
        out = {}
        for p, position in enumerate(view["positions"]):
            for head_name, hidden in final.items():
                ranked = top_k(lab.lm_head(hidden[position]), view["topK"], exclude, tokenizer.size())
                out[f"{head_name}.{position}.ids"] = [i for i, _ in ranked]
                out[f"{head_name}.{position}.probability"] = [q for _, q in ranked]
        return out
    if kind == "problem-demo":
        words = lab.model.embeddings.word_embeddings.weight[torch.tensor(ids)]
        positions = lab.tensor("embeddings.position_embeddings.weight")[: len(ids)]
        states, layers = lab.forward(ids)
        out = {"content": words.flatten().tolist(), "position": positions.flatten().tolist(), "sum": (words + positions).flatten().tolist()}
        for term in view["terms"]:
            out[term] = layers[0][term][0].flatten().tolist()
        # the lab's BERT baseline from the same tables: LayerNorm(word + position), layer 0's Q/K, softmax(QKᵀ/√d), head 0
        h = lab.model.embeddings.LayerNorm(words + positions)
        att = lab.model.encoder.layer[0].attention.self
        D = lab.config.hidden_size // lab.config.num_attention_heads
        if lab.kind == "deberta-v2":
            q, k = att.query_proj(h), att.key_proj(h)
            D = att.attention_head_size
        else:
            w = att.in_proj.weight.chunk(att.num_attention_heads * 3, dim=0)
            q, k = h @ w[0].t() + att.q_bias[:D], h @ w[1].t()
        out["bertAttention"] = torch.softmax(q[:, :D] @ k[:, :D].t() / math.sqrt(D), dim=-1).flatten().tolist()
        return out
    sys.exit(f"unknown view kind {kind!r}")


def compare(expected, actual, tolerance):
    """Max abs difference per array; ids must match exactly."""
    worst = 0.0
    failed = []
    for name, want in expected.items():
        got = actual.get(name)
        if got is None or len(got) != len(want):
            failed.append(f"{name}: the lab has {len(want)} values, transformers {0 if got is None else len(got)}")
            continue
        if name.endswith(".ids"):
            if list(map(int, got)) != list(map(int, want)):
                failed.append(f"{name}: the lab ranks {want}, transformers {got}")
            continue
        number = lambda x: float("nan") if x is None else float(x)
        diff = max((abs(number(a) - number(b)) for a, b in zip(want, got)), default=0.0)
        print(f"  {name:<28} {len(want):>8} values  max abs diff {diff:.3g}")
        worst = max(worst, diff)
        if not diff <= tolerance:
            failed.append(f"{name}: max abs diff {diff:.3g} > tolerance {tolerance:g}")
    return worst, failed


def main():
    parser = argparse.ArgumentParser(description=f"Recompute the DeBERTa Lab chart {LAB['chartId']!r} with transformers and compare.")
    parser.add_argument("--model", help="model folder (config.json, weights, tokenizer); default: the one the lab used")
    parser.add_argument("--tolerance", type=float, default=LAB["tolerance"], help="largest allowed abs difference")
    args = parser.parse_args()
    folder = model_folder(args)
    print(f"DeBERTa Lab {LAB['appVersion']} · chart {LAB['chartId']} · model {LAB['model']['name']} · transformers {transformers.__version__} · torch {torch.__version__}")
    lab = Lab(folder)

    # The same text and tokens: the tokenizer of the model folder must give the lab's ids.
    tokenizer = Tokenizer(folder)
    ids = tokenizer.encode(LAB["text"])
    if ids != LAB["inputIds"]:
        sys.exit(f"token ids differ from the lab's:\n  transformers {ids}\n  lab          {LAB['inputIds']}")
    print(f"tokens ({len(ids)}) match the lab's")

    view = LAB["view"]
    if not view.get("disabledTerms") and not view.get("p2p"):
        lab.check_against_transformers(ids)
    actual = recompute(lab, tokenizer, ids, view)
    print(f"view: {json.dumps(view)[:160]}")
    worst, failed = compare(LAB["expected"], actual, args.tolerance)
    print(f"max abs diff over the view: {worst:.3g} (tolerance {args.tolerance:g})")
    if failed:
        print("MISMATCH:\n  " + "\n  ".join(failed))
        sys.exit(1)
    print("OK: transformers reproduces the lab's numbers")


if __name__ == "__main__":
    main()
