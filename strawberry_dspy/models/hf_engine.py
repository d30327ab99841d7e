"""A DSPy engine that generates with transformers, batching the requests that arrive together.

The fallback server for Hugging Face folders that cannot be written as GGUF (`hf:DIR?engine=transformers`).
DSPy calls `complete()` from many threads (dspy.Evaluate's concurrency); one worker thread collects the
requests waiting at that moment, groups those with the same sampling settings and runs each group as one
left-padded `generate()`.
"""

from __future__ import annotations

import queue
import threading
import time
from concurrent.futures import Future
from dataclasses import dataclass, field
from pathlib import Path

from dspy.clients.engines.base import validate_request
from dspy.lm15 import Message, Response, TextPart, Usage

GATHER_S = 0.02  # how long the worker waits for more requests to join a batch


@dataclass
class _Job:
    messages: list[dict]
    max_tokens: int
    temperature: float
    top_p: float
    stop: tuple[str, ...]
    future: Future = field(default_factory=Future)

    @property
    def sampling(self) -> tuple:
        return (self.temperature, self.top_p, self.stop)


class TransformersEngine:
    """complete(Request) -> Response with a transformers causal LM, batched across concurrent callers."""

    def __init__(self, folder: str | Path, *, max_batch: int = 8, default_max_tokens: int = 256):
        import torch
        from transformers import AutoModelForCausalLM, AutoTokenizer

        self.folder = Path(folder)
        self.name = self.folder.name
        self.max_batch = max_batch
        self.default_max_tokens = default_max_tokens
        self.tokenizer = AutoTokenizer.from_pretrained(str(self.folder), padding_side="left")
        if self.tokenizer.pad_token is None:
            self.tokenizer.pad_token = self.tokenizer.eos_token
        self.model = AutoModelForCausalLM.from_pretrained(str(self.folder), dtype=torch.float32).eval()
        self._torch = torch
        self.batch_sizes: list[int] = []  # size of every generate() call, for stats and tests
        self._queue: queue.Queue[_Job] = queue.Queue()
        self._worker = threading.Thread(target=self._serve, name=f"hf-engine-{self.name}", daemon=True)
        self._worker.start()

    def complete(self, request) -> Response:
        """Generate one reply for a DSPy request (blocks until its batch has run)."""
        validate_request(request)
        messages = []
        if request.system is not None:
            system = request.system if isinstance(request.system, str) else "".join(p.text for p in request.system)
            messages.append({"role": "system", "content": system})
        messages += [{"role": m.role, "content": m.text or ""} for m in request.messages]
        config = request.config
        job = _Job(messages, config.max_tokens or self.default_max_tokens,
                   0.0 if config.temperature is None else float(config.temperature),
                   1.0 if config.top_p is None else float(config.top_p), tuple(config.stop or ()))
        self._queue.put(job)
        return job.future.result()

    def stream(self, request):
        from dspy.lm15 import response_to_events

        return response_to_events(self.complete(request))

    def close(self) -> None:
        pass

    def _serve(self) -> None:
        while True:
            jobs = [self._queue.get()]
            deadline = time.monotonic() + GATHER_S
            while len(jobs) < self.max_batch:
                try:
                    jobs.append(self._queue.get(timeout=max(0.0, deadline - time.monotonic())))
                except queue.Empty:
                    break
            groups: dict[tuple, list[_Job]] = {}
            for job in jobs:
                groups.setdefault(job.sampling, []).append(job)
            for group in groups.values():
                self.batch_sizes.append(len(group))
                try:
                    for job, response in zip(group, self._generate(group)):
                        job.future.set_result(response)
                except Exception as error:  # a failed batch fails its callers, never the worker
                    for job in group:
                        if not job.future.done():
                            job.future.set_exception(error)

    def _generate(self, jobs: list[_Job]) -> list[Response]:
        tok = self.tokenizer
        prompts = [tok.apply_chat_template(j.messages, tokenize=False, add_generation_prompt=j.messages[-1]["role"] != "assistant",
                                           continue_final_message=j.messages[-1]["role"] == "assistant") for j in jobs]
        batch = tok(prompts, return_tensors="pt", padding=True, add_special_tokens=False)
        temperature, top_p, stops = jobs[0].sampling
        sampling = dict(do_sample=True, temperature=temperature, top_p=top_p) if temperature > 0 else dict(do_sample=False)
        with self._torch.inference_mode():
            output = self.model.generate(**batch, max_new_tokens=max(j.max_tokens for j in jobs), pad_token_id=tok.pad_token_id,
                                         stop_strings=list(stops) or None, tokenizer=tok if stops else None,
                                         top_k=None, **sampling)
        prompt_len = batch["input_ids"].shape[1]
        responses = []
        for row, job in enumerate(jobs):
            ids = output[row, prompt_len:].tolist()[: job.max_tokens]
            finish = "length"
            if tok.eos_token_id in ids:
                ids, finish = ids[: ids.index(tok.eos_token_id)], "stop"
            text = tok.decode(ids, skip_special_tokens=True)
            for stop in job.stop:
                if stop in text:
                    text, finish = text[: text.index(stop)], "stop"
            prompt_tokens = int(batch["attention_mask"][row].sum())
            usage = Usage(input_tokens=prompt_tokens, output_tokens=len(ids), total_tokens=prompt_tokens + len(ids))
            responses.append(Response(id=None, model=self.name, message=Message.assistant([TextPart(text)]),
                                      finish_reason=finish, usage=usage))
        return responses
