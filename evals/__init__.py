"""The agent evaluation kit: on-call questions asked of an agent over the toolkit, on the sandbox.

``python -m evals run --model NAME [--base-url URL] [--cases GLOB] [--face langchain|mcp]``
(see the README's "Evaluating an agent"). Modules, one job each: ``cases`` (the YAML cases),
``truth`` (their facts, from the sandbox's hidden ground truth), ``models`` (the scripted
oracle and careless chat models), ``faces`` (the tools an agent is given: in-process LangChain
tools or ``pd-toolkit mcp``), ``runner`` (one agent run per case, recorded), ``scoring``
(deterministic matching), ``tokens`` (o200k_base counts), ``report`` (JSON, Markdown,
chart), ``peers`` (PagerDuty's own MCP server, where installed) and ``mcp_server``
(``pd-toolkit mcp`` at a case's clock). Runs from the checkout, like ``agents/`` and
``benchmarks/``.
"""
