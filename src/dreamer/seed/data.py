"""What ``dreamer seed`` writes. Keys are stable so seeding twice changes nothing."""

from __future__ import annotations

from typing import Any

SERVICES: list[dict[str, Any]] = [
    {
        "name": "AI Strategy Consultation",
        "slug": "ai-strategy-consultation",
        "description": "A focused session to map where AI can create value in your business, "
        "which use cases to start with, and what it takes to deliver them.",
        "features": [
            "AI readiness assessment",
            "Use-case identification and prioritisation",
            "Technology and vendor recommendations",
            "Implementation roadmap",
        ],
        "pricing": {"type": "fixed", "amount": 500, "currency": "USD", "per": "session"},
        "duration_minutes": 60,
        "sort_order": 1,
    },
    {
        "name": "Custom AI Development",
        "slug": "custom-ai-development",
        "description": "Bespoke models, agents and AI-powered applications built for your data "
        "and your workflows, from prototype to production.",
        "features": [
            "Requirements and data analysis",
            "Custom model and agent development",
            "Integration with existing systems",
            "Deployment, monitoring and support",
        ],
        "pricing": {"type": "custom", "startingAt": 15000, "currency": "USD", "per": "project"},
        "duration_minutes": 60,
        "sort_order": 2,
    },
    {
        "name": "AI Integration Services",
        "slug": "ai-integration-services",
        "description": "Connect leading AI platforms and APIs to the tools your teams already "
        "use, securely and with measurable results.",
        "features": [
            "API and platform integration",
            "Workflow automation",
            "Data pipeline setup",
            "Security and compliance review",
        ],
        "pricing": {"type": "hourly", "rate": 200, "minimumHours": 10, "currency": "USD"},
        "duration_minutes": 45,
        "sort_order": 3,
    },
    {
        "name": "AI Training Workshop",
        "slug": "ai-training-workshop",
        "description": "Hands-on training that gives your team the skills and confidence to "
        "use AI tools effectively and responsibly.",
        "features": [
            "Tailored curriculum",
            "Hands-on exercises with real tools",
            "Responsible-AI guidelines",
            "Course materials and follow-up Q&A",
        ],
        "pricing": {"type": "workshop", "amount": 2500, "currency": "USD", "maxAttendees": 20},
        "duration_minutes": 180,
        "sort_order": 4,
    },
]

CASE_STUDIES: list[dict[str, Any]] = [
    {
        "title": "Cutting support response times by 60% with an AI assistant",
        "slug": "retail-support-assistant",
        "client_name": "Northwind Retail",
        "industry": "Retail",
        "challenge": "A growing backlog of customer emails and slow first responses.",
        "solution": "A retrieval-augmented assistant drafting answers from the knowledge base, "
        "with agents approving every reply.",
        "results": "First-response time down 60%, customer satisfaction up 18 points.",
        "technologies": ["Python", "PostgreSQL", "pgvector", "LLM APIs"],
        "metrics": {"responseTimeReduction": "60%", "csatIncrease": "+18"},
        "sort_order": 1,
    },
    {
        "title": "Forecasting demand for a regional logistics network",
        "slug": "logistics-demand-forecasting",
        "client_name": "Contoso Logistics",
        "industry": "Logistics",
        "challenge": "Manual forecasts that missed seasonal peaks and left trucks half empty.",
        "solution": "Gradient-boosted forecasting models retrained weekly, with a planner "
        "dashboard.",
        "results": "Forecast error halved; 12% fewer empty kilometres.",
        "technologies": ["Python", "LightGBM", "FastAPI"],
        "metrics": {"forecastErrorReduction": "50%", "emptyKmReduction": "12%"},
        "sort_order": 2,
    },
]

TESTIMONIALS: list[dict[str, Any]] = [
    {
        "key": "northwind",
        "client_name": "Maria Chen",
        "client_title": "Head of Customer Care",
        "client_company": "Northwind Retail",
        "content": "Dreamer understood our problem in one workshop and shipped a working "
        "assistant in six weeks. Our team would not go back.",
        "rating": 5,
        "case_study": "retail-support-assistant",
        "is_featured": True,
        "sort_order": 1,
    },
    {
        "key": "contoso",
        "client_name": "James O'Neill",
        "client_title": "COO",
        "client_company": "Contoso Logistics",
        "content": "Practical, honest advice and models that our planners actually trust.",
        "rating": 5,
        "case_study": "logistics-demand-forecasting",
        "is_featured": True,
        "sort_order": 2,
    },
    {
        "key": "fabrikam",
        "client_name": "Aisha Bello",
        "client_title": "CTO",
        "client_company": "Fabrikam Health",
        "content": "The training workshop gave our engineers a shared, responsible way of "
        "working with AI.",
        "rating": 4,
        "case_study": None,
        "is_featured": False,
        "sort_order": 3,
    },
]

PAGES: list[dict[str, Any]] = [
    {
        "title": "AI solutions that deliver",
        "slug": "home",
        "page_type": "landing",
        "content": {
            "blocks": [
                {"type": "heading", "level": 2, "text": "Turn AI into results"},
                {
                    "type": "paragraph",
                    "text": "Strategy, custom development, integration and training: "
                    "<strong>AI that earns its place</strong> in your business.",
                },
                {
                    "type": "list",
                    "style": "bulleted",
                    "items": ["AI strategy consulting", "Custom AI development", "Team training"],
                },
                {"type": "cta", "label": "Book a consultation", "href": "/book"},
            ]
        },
        "meta_title": "Dreamer AI Solutions — AI consulting",
        "meta_description": "AI strategy, development, integration and training for "
        "businesses that want results.",
    },
    {
        "title": "About us",
        "slug": "about",
        "page_type": "custom",
        "content": {
            "blocks": [
                {
                    "type": "paragraph",
                    "text": "We are a small team of engineers and consultants "
                    "helping businesses put AI to work.",
                }
            ]
        },
        "meta_title": "About Dreamer AI Solutions",
        "meta_description": "Who we are and how we work.",
    },
    {
        "title": "Frequently asked questions",
        "slug": "faq",
        "page_type": "custom",
        "content": {
            "blocks": [
                {"type": "heading", "level": 2, "text": "How do I book a consultation?"},
                {
                    "type": "paragraph",
                    "text": "Sign up or log in, choose a service and pick a free time slot. We "
                    "confirm the booking by e-mail with a video meeting link.",
                },
                {"type": "heading", "level": 2, "text": "Can I reschedule or cancel a booking?"},
                {
                    "type": "paragraph",
                    "text": "Yes: from your account, up to 24 hours before the meeting starts.",
                },
                {"type": "heading", "level": 2, "text": "Do you work remotely or on site?"},
                {
                    "type": "paragraph",
                    "text": "We are a remote-first team and work with clients by video call; "
                    "workshops can also be held on site at your office by arrangement.",
                },
                {"type": "heading", "level": 2, "text": "How long does a typical project take?"},
                {
                    "type": "paragraph",
                    "text": "A strategy engagement takes one to two weeks. A custom development "
                    "project usually runs four to twelve weeks from prototype to production.",
                },
                {
                    "type": "heading",
                    "level": 2,
                    "text": "Will you sign an NDA, and how do you handle our data?",
                },
                {
                    "type": "paragraph",
                    "text": "Yes. We sign a non-disclosure agreement before we see any data, "
                    "use your data only for your project, and can work inside your own cloud "
                    "account so it never leaves your infrastructure. We follow the GDPR.",
                },
                {"type": "heading", "level": 2, "text": "Which industries do you work with?"},
                {
                    "type": "paragraph",
                    "text": "Retail, logistics, healthcare, finance and professional services, "
                    "among others: the methods carry over, we learn your domain.",
                },
                {"type": "heading", "level": 2, "text": "How do you charge?"},
                {
                    "type": "paragraph",
                    "text": "Consultations and workshops have fixed prices, integration work is "
                    "billed by the hour, and custom development is quoted per project after a "
                    "free scoping call. Invoices are payable within 30 days.",
                },
            ]
        },
        "meta_title": "FAQ — Dreamer AI Solutions",
        "meta_description": "Booking, remote work, project length, confidentiality and pricing.",
    },
]
